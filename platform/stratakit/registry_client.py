"""Connecting ``strata model`` to the project's tracking server, and naming who acts."""

from __future__ import annotations

import getpass
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from stratakit.contract import exported
from stratakit.errors import StackNotRunningError
from stratakit.health import HealthProbe
from stratakit.project import Project
from stratakit.registry import Deployed
from stratakit.stack_context import contract_for, load_context


@contextmanager
def registry_client(project: Project) -> Iterator[Any]:
    """An ``MlflowClient`` on the project's stack, configured by its contract alone.

    Fails at once (instead of after MLflow's retries) when the tracking server is down.
    """
    contract = contract_for(load_context(project))
    uri = contract["MLFLOW_TRACKING_URI"]
    with HealthProbe(timeout=3) as probe:
        if not probe(f"{uri}/health"):
            raise StackNotRunningError(
                f"The tracking server at {uri} does not answer; start it with `strata stack up`."
            )
    with exported({**contract, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2"}):
        from mlflow import MlflowClient

        yield MlflowClient(tracking_uri=uri, registry_uri=uri)


def actor(project: Project) -> str:
    """Who is acting: the project's git identity, else the login name."""
    try:
        done = subprocess.run(
            ["git", "config", "user.email"],
            cwd=project.root,
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except OSError:  # no git on this machine: the login name still says who
        return getpass.getuser()
    return done.stdout.strip() or getpass.getuser()


def deployed_version(project: Project, name: str) -> Deployed | None:
    """What the project's serving gateway serves under ``name`` (``None``: nothing, or down)."""
    import httpx

    url = contract_for(load_context(project)).get("STRATA_SERVING_URL")
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
