"""The portal's two reads on demand: verifying a version, and a stored drift report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stratakit.errors import MonitoringError, StrataError

if TYPE_CHECKING:
    from stratakit.project import Project


@dataclass(frozen=True)
class Finding:
    """One check of ``strata model verify``."""

    check: str
    level: str
    detail: str


@dataclass(frozen=True)
class Verified:
    """What "verify" found for one version (``error``: the check could not run)."""

    name: str
    version: str
    ok: bool
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None


def verify_version(project: Project, name: str, version: str) -> Verified:
    """``strata model verify NAME/VERSION``, read-only.

    Downloads into a temporary folder, asks git and DVC; changes nothing.
    """
    from stratakit.registry.connection import verify_ref
    from stratakit.registry.refs import ModelRef

    try:
        _, findings = verify_ref(project, ModelRef.parse(f"{name}/{version}"))
    except StrataError as exc:
        return Verified(name, version, ok=False, error=str(exc))
    rows = [Finding(f.name, f.severity, f.detail) for f in findings]
    return Verified(name, version, ok=all(f.level != "fail" for f in rows), findings=rows)


def drift_report(project: Project, model: str, version: str) -> str:
    """The HTML report of the version's newest drift check, from the bucket."""
    from stratakit.monitor.results import bucket_of, latest_result, s3_client
    from stratakit.stack.context import project_contract

    contract = project_contract(project)
    with s3_client(contract) as client:
        bucket = bucket_of(contract)
        result = latest_result(client, bucket, model, version)
        stored = (result or {}).get("stored") or {}
        location = str(stored.get("html", ""))
        prefix = f"s3://{bucket}/"
        if not location.startswith(prefix):
            raise MonitoringError(
                f"{model} version {version} has no stored drift report; run "
                f"`strata monitor drift {model}/{version}`."
            )
        body = client.get_object(Bucket=bucket, Key=location[len(prefix) :])["Body"].read()
    return bytes(body).decode("utf-8")
