"""Connecting to the project's tracking server and asking its gateway what it serves."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx

import stratakit.http as http
from stratakit.contract import child_environment, exported
from stratakit.project import Project
from stratakit.registry.tracking_api import TrackingAPI
from stratakit.registry.verify import Deployed
from stratakit.stack.context import project_contract
from stratakit.stack.health import require_healthy

if TYPE_CHECKING:
    from stratakit.checks import CheckResult
    from stratakit.registry.catalog import VersionInfo
    from stratakit.registry.refs import ModelRef


@contextmanager
def tracking_client(project: Project) -> Iterator[TrackingAPI]:
    """The project's tracking server, configured by its contract alone.

    Fails at once when the server is down. The contract is exported for the block, so the
    rare call that needs MLflow's own client (artifacts outside the server's proxy) finds
    the same server.
    """
    contract = project_contract(project)
    uri = contract["MLFLOW_TRACKING_URI"]
    require_healthy("tracking server", uri, f"{uri}/health")
    with exported(contract), TrackingAPI.from_environ(child_environment(contract)) as api:
        yield api


def deployed_version(project: Project, name: str) -> Deployed | None:
    """What the project's serving gateway serves under ``name`` (``None``: nothing, or down)."""
    url = project_contract(project).get("STRATA_SERVING_URL")
    if not url:
        return None
    try:
        answer = http.get(f"{url}/v2/models/{name}", timeout=5)
    except httpx.HTTPError:
        return None
    if answer.status_code != 200:
        return None
    meta = answer.json()
    return Deployed(
        version=str(meta["versions"][0]),
        artifact_sha256=str(meta.get("parameters", {}).get("artifact_sha256", "")),
    )


def verify_ref(project: Project, ref: ModelRef) -> tuple[VersionInfo, list[CheckResult]]:
    """``strata model verify``: the version and its findings. Reads only.

    Checked against the project's registry, its git and DVC, and what its gateway serves.
    """
    from stratakit.registry.catalog import describe
    from stratakit.registry.verify import download_version, verify

    with tracking_client(project) as api:
        info = describe(api, ref)
        findings = verify(
            info,
            project.root,
            download=lambda folder: download_version(api, info.name, info.version, folder),
            deployed=deployed_version(project, info.name),
        )
    return info, findings
