"""Connecting to the project's tracking server and asking its gateway what it serves."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from stratakit.contract import exported
from stratakit.project import Project
from stratakit.registry.verify import Deployed
from stratakit.stack.context import project_contract
from stratakit.stack.health import require_healthy


@contextmanager
def tracking_client(project: Project) -> Iterator[Any]:
    """An ``MlflowClient`` on the project's stack, configured by its contract alone.

    Fails at once (instead of after MLflow's retries) when the tracking server is down.
    """
    contract = project_contract(project)
    uri = contract["MLFLOW_TRACKING_URI"]
    require_healthy("tracking server", uri, f"{uri}/health")
    with exported({**contract, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2"}):
        from mlflow import MlflowClient

        yield MlflowClient(tracking_uri=uri, registry_uri=uri)


def deployed_version(project: Project, name: str) -> Deployed | None:
    """What the project's serving gateway serves under ``name`` (``None``: nothing, or down)."""
    url = project_contract(project).get("STRATA_SERVING_URL")
    if not url:
        return None
    try:
        answer = httpx.get(f"{url}/v2/models/{name}", timeout=5)
    except httpx.HTTPError:
        return None
    if answer.status_code != 200:
        return None
    meta = answer.json()
    return Deployed(
        version=str(meta["versions"][0]),
        artifact_sha256=str(meta.get("parameters", {}).get("artifact_sha256", "")),
    )
