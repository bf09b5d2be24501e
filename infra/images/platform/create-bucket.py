#!/opt/strata/bin/python
"""strata-create-bucket: create the stack's bucket if it is missing, then exit 0.

The compose stack's one-shot ``create-bucket`` job. It speaks plain S3 (boto3, SigV4), so it
works against any S3-compatible store: SeaweedFS, a MinIO fork, RustFS or cloud S3. Reads
STRATA_BUCKET, AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; retries for
a while, since a store may answer its health check before it accepts writes.
"""

import os
import sys
import time

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

ATTEMPTS = 30
#: Answers that waiting will not change: wrong keys, no permission, a bad name.
FATAL = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidBucketName", "403"}


def ensure_bucket(s3: BaseClient, bucket: str) -> str:
    """Create the bucket unless it exists; says which it was."""
    try:
        s3.head_bucket(Bucket=bucket)
        return f"bucket {bucket} exists"
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in {"404", "NoSuchBucket", "NotFound"}:
            raise
    try:
        s3.create_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            raise
    return f"created bucket {bucket}"


def main() -> int:
    """Ensure the bucket, retrying while the store starts; the exit code says how it went."""
    bucket = os.environ.get("STRATA_BUCKET", "")
    if not bucket:
        print("error: STRATA_BUCKET is not set; set it to the bucket's name.", file=sys.stderr)
        return 2
    s3 = boto3.client(
        "s3",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    last = ""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            print(ensure_bucket(s3, bucket))
            return 0
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in FATAL:
                print(f"error: bucket {bucket}: {exc}; check the S3 key pair.", file=sys.stderr)
                return 1
            last = str(exc)
        except BotoCoreError as exc:
            last = str(exc)
        print(f"waiting for the object store ({attempt}/{ATTEMPTS}): {last}", file=sys.stderr)
        time.sleep(1)
    print(f"error: the object store did not accept bucket {bucket}: {last}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
