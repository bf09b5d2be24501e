"""``strata flows list`` and ``strata flows run``: what the scheduler knows of each flow."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from stratakit.errors import FlowNotFoundError, InvalidInputError
from stratakit.flows.connection import prefect_api, resource_id, scheduler_api
from stratakit.flows.scheduler_api import SchedulerAPI, parse_time
from stratakit.project import Project
from stratakit.stack.services.scheduler import WORK_POOL

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.objects import FlowRun
    from prefect.client.schemas.responses import DeploymentResponse

#: How often a followed run's state is read.
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class FlowStatus:
    """One configured flow: its deployment (if deployed), queue, schedule, last and next run."""

    name: str
    deployed: bool
    flow: str | None = None
    queue: str | None = None
    priority: int | None = None
    concurrency_limit: int | None = None
    schedule: str | None = None
    triggers: list[str] = field(default_factory=list)
    last_state: str | None = None
    last_time: datetime | None = None
    next_run: datetime | None = None


@dataclass(frozen=True)
class RunResult:
    """A flow run created by ``run``; ``state`` is final when it was followed."""

    name: str
    flow_run_id: str
    flow_run_name: str
    state: str
    final: bool
    ok: bool


def _deployments(client: SyncPrefectClient, project: Project) -> dict[str, DeploymentResponse]:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterTags

    found = client.read_deployments(
        deployment_filter=DeploymentFilter(tags=DeploymentFilterTags(all_=[resource_id(project)]))
    )
    return {deployment.name: deployment for deployment in found}


def _runs(client: SyncPrefectClient, deployment_id: UUID, scheduled: bool) -> list[FlowRun]:
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    states = FlowRunFilterStateType(
        any_=[StateType.SCHEDULED] if scheduled else None,
        not_any_=None if scheduled else [StateType.SCHEDULED],
    )
    return client.read_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
        flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=states)),
        sort=FlowRunSort.EXPECTED_START_TIME_ASC if scheduled else FlowRunSort.START_TIME_DESC,
        limit=1,
    )


def _last_and_next(api: SchedulerAPI, deployment_id: str) -> tuple[dict[str, Any], ...]:
    """The deployment's latest started run and its next scheduled one (each may be absent)."""
    found = []
    for states, sort in (({"not_any_": ["SCHEDULED"]}, "START_TIME_DESC"),
                         ({"any_": ["SCHEDULED"]}, "EXPECTED_START_TIME_ASC")):  # fmt: skip
        runs = api.post(
            "/flow_runs/filter",
            {
                "deployments": {"id": {"any_": [deployment_id]}},
                "flow_runs": {"state": {"type": states}},
                "sort": sort,
                "limit": 1,
            },
        )
        found.append(runs[0] if runs else {})
    return tuple(found)


def _status(api: SchedulerAPI, name: str, deployment: dict[str, Any], queues: dict[str, Any]
            ) -> FlowStatus:  # fmt: skip
    queue = queues.get(deployment.get("work_queue_name") or "", {})
    automations = api.get(f"/automations/related-to/prefect.deployment.{deployment['id']}")
    last, upcoming = _last_and_next(api, deployment["id"])
    crons = [(s.get("schedule") or {}).get("cron") for s in deployment.get("schedules") or ()]
    return FlowStatus(
        name=name,
        deployed=True,
        flow=api.get(f"/flows/{deployment['flow_id']}")["name"],
        queue=deployment.get("work_queue_name"),
        priority=queue.get("priority"),
        concurrency_limit=queue.get("concurrency_limit"),
        schedule=", ".join(str(c) for c in crons if c) or None,
        triggers=sorted(
            event for automation in automations for event in automation["trigger"].get("expect", ())
        ),
        last_state=last.get("state_name"),
        last_time=parse_time(last.get("start_time") or last.get("expected_start_time")),
        next_run=parse_time(upcoming.get("expected_start_time")),
    )


def list_flows(project: Project) -> list[FlowStatus]:
    """Every configured flow with what the scheduler knows of its deployment."""
    config = project.settings
    with scheduler_api(project) as api:
        tags = {"deployments": {"tags": {"all_": [resource_id(project)]}}}
        deployed = {d["name"]: d for d in api.post("/deployments/filter", tags)}
        queues = {q["name"]: q for q in api.post(f"/work_pools/{WORK_POOL}/queues/filter", {})}
        return [
            _status(api, name, deployed[name], queues)
            if name in deployed
            else FlowStatus(name=name, deployed=False)
            for name in config.flows
        ]


def run_flow(
    project: Project,
    name: str,
    parameters: dict[str, Any] | None = None,
    wait: bool = True,
    on_state: Callable[[str], None] | None = None,
    timeout: float | None = None,
) -> RunResult:
    """Start a run of the deployment ``name``; with ``wait``, follow it to its final state.

    ``ok`` is true for a run that completed, or that was started without ``wait``.
    """
    project.settings.flow(name)
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    with prefect_api(project), get_client(sync_client=True) as client:
        deployment = _deployments(client, project).get(name)
        if deployment is None:
            raise FlowNotFoundError(
                f"Flow '{name}' is configured but not deployed; run `strata flows deploy` first."
            )
        run = cast(
            "FlowRun",
            run_deployment(deployment.id, parameters=parameters or {}, timeout=0),
        )
        deadline = None if timeout is None else time.monotonic() + timeout
        seen = ""
        while wait:
            run = client.read_flow_run(run.id)
            state = run.state_name or "unknown"
            if on_state and state != seen:
                on_state(state)
                seen = state
            if (run.state and run.state.is_final()) or (deadline and time.monotonic() > deadline):
                break
            time.sleep(POLL_SECONDS)
    final = bool(run.state and run.state.is_final())
    return RunResult(
        name=name,
        flow_run_id=str(run.id),
        flow_run_name=run.name,
        state=run.state_name or "unknown",
        final=final,
        ok=bool(run.state and run.state.is_completed()) if final else not wait,
    )


def parse_parameters(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as flow parameters; a VALUE that is JSON (``3``, ``true``) is decoded."""
    parameters: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise InvalidInputError(
                f"--param '{pair}' must be KEY=VALUE with KEY a parameter name, "
                "e.g. --param limit=10."
            )
        try:
            parameters[key] = json.loads(value)
        except json.JSONDecodeError:
            parameters[key] = value
    return parameters


@dataclass(frozen=True)
class RecentRun:
    """A run of one of the project's deployments, newest first in :func:`recent_runs`."""

    deployment: str
    name: str
    state: str
    started: datetime | None
    duration_seconds: float | None
    """Run time so far for a running run; ``None`` before it starts."""


def recent_runs(project: Project, limit: int = 10) -> list[RecentRun]:
    """The project's latest started runs (any state but scheduled), newest first."""
    with scheduler_api(project) as api:
        tags = {"deployments": {"tags": {"all_": [resource_id(project)]}}}
        names = {d["id"]: d["name"] for d in api.post("/deployments/filter", tags)}
        if not names:
            return []
        runs = api.post(
            "/flow_runs/filter",
            {
                "deployments": {"id": {"any_": list(names)}},
                "flow_runs": {"state": {"type": {"not_any_": ["SCHEDULED"]}}},
                "sort": "START_TIME_DESC",
                "limit": limit,
            },
        )
    return [
        RecentRun(
            deployment=names.get(run.get("deployment_id"), "-"),
            name=str(run.get("name", "")),
            state=str(run.get("state_name") or "-"),
            started=parse_time(run.get("start_time")),
            duration_seconds=_seconds(run) if run.get("start_time") else None,
        )
        for run in runs
    ]


def _seconds(run: dict[str, Any]) -> float | None:
    """Prefect's estimate counts a running run's time so far; the total only finished time."""
    value = run.get("estimated_run_time", run.get("total_run_time"))
    return float(value) if isinstance(value, int | float) else None
