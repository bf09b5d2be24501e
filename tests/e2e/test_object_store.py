"""boto3 against the embedded store, configured by the environment contract only."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import boto3
import httpx
import pytest
from boto3.s3.transfer import TransferConfig
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from ..helpers.stacks import RunningStack

pytestmark = pytest.mark.e2e


def test_put_get_round_trip(contract_env: RunningStack) -> None:
    s3 = boto3.client("s3")
    s3.put_object(Bucket=contract_env.bucket, Key="a/b.txt", Body=b"payload")
    assert s3.get_object(Bucket=contract_env.bucket, Key="a/b.txt")["Body"].read() == b"payload"


def test_ranged_get(contract_env: RunningStack) -> None:
    s3 = boto3.client("s3")
    s3.put_object(Bucket=contract_env.bucket, Key="range.bin", Body=bytes(range(256)))
    part = s3.get_object(Bucket=contract_env.bucket, Key="range.bin", Range="bytes=10-19")
    assert part["Body"].read() == bytes(range(10, 20))


def test_multipart_upload_of_60_mb_is_byte_identical(
    contract_env: RunningStack, tmp_path: Path
) -> None:
    payload = os.urandom(60 * 1024 * 1024)
    part_size = 8 * 1024 * 1024
    s3 = boto3.client("s3")
    bucket, key = contract_env.bucket, "big/big.bin"
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)
    parts = []
    for number, start in enumerate(range(0, len(payload), part_size), start=1):
        chunk = payload[start : start + part_size]
        etag = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload["UploadId"], PartNumber=number, Body=chunk
        )["ETag"]
        parts.append({"ETag": etag, "PartNumber": number})
    assert len(parts) == 8
    s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
    )
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(payload)
    target = tmp_path / "back.bin"
    config = TransferConfig(multipart_threshold=part_size, multipart_chunksize=part_size)
    s3.download_file(bucket, key, str(target), Config=config)  # parallel ranged GETs
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(payload).digest()


def test_managed_transfer_upload(contract_env: RunningStack, tmp_path: Path) -> None:
    source = tmp_path / "managed.bin"
    source.write_bytes(os.urandom(20 * 1024 * 1024))
    s3 = boto3.client("s3")
    config = TransferConfig(
        multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024
    )
    s3.upload_file(str(source), contract_env.bucket, "big/managed.bin", Config=config)
    body = s3.get_object(Bucket=contract_env.bucket, Key="big/managed.bin")["Body"].read()
    assert body == source.read_bytes()


def test_list_with_prefix_and_delimiter(contract_env: RunningStack) -> None:
    s3 = boto3.client("s3")
    for key in ("lst/x/1.txt", "lst/x/2.txt", "lst/y/3.txt", "lst/top.txt", "other/4.txt"):
        s3.put_object(Bucket=contract_env.bucket, Key=key, Body=b"1")
    listed = s3.list_objects_v2(Bucket=contract_env.bucket, Prefix="lst/", Delimiter="/")
    assert [c["Prefix"] for c in listed["CommonPrefixes"]] == ["lst/x/", "lst/y/"]
    assert [o["Key"] for o in listed["Contents"]] == ["lst/top.txt"]


def test_presigned_get_with_sigv4(contract_env: RunningStack) -> None:
    s3 = boto3.client("s3", config=Config(signature_version="s3v4"))
    s3.put_object(Bucket=contract_env.bucket, Key="shared/report.txt", Body=b"presigned")
    url = s3.generate_presigned_url(
        "get_object",
        Params={"Bucket": contract_env.bucket, "Key": "shared/report.txt"},
        ExpiresIn=60,
    )
    assert "X-Amz-Signature" in url
    assert httpx.get(url).content == b"presigned"


def test_unsigned_requests_are_refused(contract_env: RunningStack) -> None:
    s3 = boto3.client("s3")
    s3.put_object(Bucket=contract_env.bucket, Key="private.txt", Body=b"secret")
    endpoint = contract_env.contract["AWS_ENDPOINT_URL_S3"]
    plain = httpx.get(f"{endpoint}/{contract_env.bucket}/private.txt")
    assert plain.status_code in {400, 401, 403}
    assert b"secret" not in plain.content
    anonymous = boto3.client("s3", config=Config(signature_version=UNSIGNED))
    with pytest.raises(ClientError):
        anonymous.get_object(Bucket=contract_env.bucket, Key="private.txt")


def test_wrong_secret_is_refused(
    contract_env: RunningStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(ClientError):
        boto3.session.Session().client("s3").list_objects_v2(Bucket=contract_env.bucket)
