"""Pointing Prefect's client at the project's scheduler, through the contract alone."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from stratakit.contract import child_environment, exported
from stratakit.flows.scheduler_api import SchedulerAPI
from stratakit.project import Project
from stratakit.stack.context import project_contract
from stratakit.stack.health import require_healthy


def resource_id(project: Project) -> str:
    """The Prefect resource id of the project, which its event triggers match."""
    return f"strata.project.{project.slug}"


@contextlib.contextmanager
def prefect_api(project: Project) -> Iterator[str]:
    """Point Prefect at the project's scheduler through the contract, for one block.

    Prefect freezes its settings when it is first imported; a fresh settings context read
    from the exported contract makes clients in this block use this project's server.
    Fails at once when the scheduler does not answer.
    """
    contract = project_contract(project)
    url = contract["PREFECT_API_URL"]
    require_healthy("scheduler", url, f"{url}/health")
    with exported(contract):
        from prefect.context import SettingsContext
        from prefect.settings import Settings

        current = SettingsContext.get()
        if current is None:  # pragma: no cover - Prefect always has a root context
            yield url
            return
        with SettingsContext(profile=current.profile, settings=Settings()):
            yield url


@contextlib.contextmanager
def scheduler_api(project: Project) -> Iterator[SchedulerAPI]:
    """Reads from the project's scheduler over REST; fails at once when it does not answer."""
    contract = project_contract(project)
    url = contract["PREFECT_API_URL"]
    require_healthy("scheduler", url, f"{url}/health")
    with SchedulerAPI(url, child_environment(contract)) as api:
        yield api
