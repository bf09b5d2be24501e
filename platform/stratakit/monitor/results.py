"""Drift check results in the bucket, and the served-model status built from them.

The object store client, the bucket, the newest stored check of a version, and one row per
served version for ``strata monitor status`` and the portal.

Light on purpose (no NumPy, no pandas): the portal imports it into a small process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stratakit.contract import exported
from stratakit.errors import MonitoringError
from stratakit.monitor.status import gateway_traffic, status_rows
from stratakit.stack.context import project_contract

if TYPE_CHECKING:
    from stratakit.project import Project

#: Where results are kept in the bucket: ``monitoring/MODEL/version=V/drift-<time>.json``.
RESULTS_PREFIX = "monitoring"


@contextmanager
def s3_client(contract: Mapping[str, str]) -> Iterator[Any]:
    """A boto3 S3 client configured by the contract alone, for one block.

    The object store failing inside the block (down, refusing the keys) ends it with one
    :class:`MonitoringError` naming the store, not a botocore traceback.
    """
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    endpoint = contract.get("AWS_ENDPOINT_URL_S3") or contract.get("AWS_ENDPOINT_URL", "S3")
    # SigV4 for presigned URLs too (botocore presigns with SigV2 unless told otherwise).
    config = Config(signature_version="s3v4")
    with exported(contract):
        try:
            # A session of its own: boto3's default one keeps the first credentials it saw.
            yield boto3.session.Session().client("s3", config=config)
        except (BotoCoreError, ClientError) as exc:
            raise MonitoringError(
                f"the object store at {endpoint} failed: {exc}; `strata stack status` shows "
                "whether it runs."
            ) from None


def bucket_of(contract: Mapping[str, str]) -> str:
    """The project's bucket, as the contract names it (``STRATA_BUCKET``)."""
    bucket = contract.get("STRATA_BUCKET") or contract.get("STRATA_S3_URI", "")[5:].split("/")[0]
    if not bucket:
        raise MonitoringError("the stack's contract names no bucket; run `strata stack up`.")
    return bucket


def latest_result(client: Any, bucket: str, model: str, version: str) -> dict[str, Any] | None:
    """The newest stored check of a version (``None`` when it was never checked)."""
    prefix = f"{RESULTS_PREFIX}/{model}/version={version}/"
    newest: str | None = None
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", ()):
            if item["Key"].endswith(".json") and (newest is None or item["Key"] > newest):
                newest = item["Key"]
    if newest is None:
        return None
    result: dict[str, Any] = json.loads(client.get_object(Bucket=bucket, Key=newest)["Body"].read())
    return result


def served_status(project: Project) -> list[dict[str, Any]]:
    """One row per version the gateway serves: traffic, errors, latency, last check, age."""
    from stratakit.registry.connection import tracking_client

    contract = project_contract(project)
    traffic = gateway_traffic(contract["STRATA_SERVING_URL"])
    checks: dict[tuple[str, str], dict[str, Any] | None] = {}
    created: dict[tuple[str, str], datetime | None] = {}
    if not traffic:
        return []
    with tracking_client(project) as api, s3_client(contract) as client:
        bucket = bucket_of(contract)
        for item in traffic:
            key = (item.model, item.version)
            checks[key] = latest_result(client, bucket, item.model, item.version)
            version = api.version(item.model, item.version)
            created[key] = datetime.fromtimestamp(version.created_ms / 1000, UTC)
    return status_rows(traffic, checks, created)
