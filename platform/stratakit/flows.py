"""Deploying, listing and running the project's scheduled pipelines on the stack's Prefect.

Every function reads the project's ``[tool.strata.queues]`` / ``[tool.strata.flows]``
(:mod:`stratakit.flows_config`) and talks to the scheduler through the environment
contract alone, exactly as the project's own code would.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from stratakit.contract import exported
from stratakit.errors import FlowNotFoundError, FlowsConfigError, StackNotRunningError
from stratakit.flows_config import FlowConfig, QueueConfig, load_flows_config
from stratakit.health import HealthProbe
from stratakit.project import Project
from stratakit.services.scheduler import WORK_POOL
from stratakit.stack_context import contract_for, load_context

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.objects import FlowRun
    from prefect.client.schemas.responses import DeploymentResponse

#: How often a followed run's state is read.
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class QueueResult:
    """A work queue of the pool as the server holds it after ``deploy``."""

    name: str
    priority: int
    concurrency_limit: int | None
    created: bool


@dataclass(frozen=True)
class DeployResult:
    """One deployment as created or updated."""

    name: str
    flow: str
    deployment_id: str
    queue: str
    cron: str | None
    triggers: list[str]


@dataclass(frozen=True)
class DeployReport:
    """What ``deploy`` did: the queues first, then the deployments."""

    queues: list[QueueResult]
    deployments: list[DeployResult]


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
    contract = contract_for(load_context(project))
    url = contract["PREFECT_API_URL"]
    with HealthProbe(timeout=3) as probe:
        if not probe(f"{url}/health"):
            raise StackNotRunningError(
                f"The scheduler at {url} does not answer; start it with `strata stack up`."
            )
    with exported(contract):
        from prefect.context import SettingsContext
        from prefect.settings import Settings

        current = SettingsContext.get()
        if current is None:  # pragma: no cover - Prefect always has a root context
            yield url
            return
        with SettingsContext(profile=current.profile, settings=Settings()):
            yield url


def _apply_queue(client: SyncPrefectClient, queue: QueueConfig) -> QueueResult:
    from prefect.exceptions import ObjectNotFound

    try:
        existing = client.read_work_queue_by_name(queue.name, work_pool_name=WORK_POOL)
    except ObjectNotFound:
        client.create_work_queue(
            name=queue.name,
            priority=queue.priority,
            concurrency_limit=queue.concurrency_limit,
            work_pool_name=WORK_POOL,
        )
        created = True
    else:
        client.update_work_queue(
            existing.id, priority=queue.priority, concurrency_limit=queue.concurrency_limit
        )
        created = False
    now = client.read_work_queue_by_name(queue.name, work_pool_name=WORK_POOL)
    return QueueResult(queue.name, int(now.priority or 0), now.concurrency_limit, created)


def _deploy_one(project: Project, config: FlowConfig) -> DeployResult:
    from prefect import Flow, flow
    from prefect.events import DeploymentEventTrigger, DeploymentTriggerTypes, TriggerTypes

    try:
        # Prefect's API returns coroutines only inside an event loop; here it is synchronous.
        deployable = cast(
            "Flow[..., Any]",
            flow.from_source(source=str(project.root), entrypoint=config.entrypoint),
        )
    except Exception as exc:  # the user's module raised while Prefect imported it
        raise FlowsConfigError(
            f"pyproject.toml [tool.strata.flows.{config.name}].entrypoint "
            f"'{config.entrypoint}' could not be loaded ({type(exc).__name__}: {exc}); "
            f"run `python {config.path}` to see why."
        ) from exc
    triggers: list[DeploymentTriggerTypes | TriggerTypes] = [
        DeploymentEventTrigger(
            name=f"{config.name} on {event}",
            expect={event},
            match={"prefect.resource.id": resource_id(project)},
        )
        for event in config.triggers
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        deployment_id = deployable.deploy(
            name=config.name,
            work_pool_name=WORK_POOL,
            work_queue_name=config.queue,
            cron=config.cron,
            parameters=config.parameters,
            triggers=triggers,
            description=config.description,
            tags=[resource_id(project)],
            print_next_steps=False,
            ignore_warnings=True,
        )
    return DeployResult(
        name=config.name,
        flow=deployable.name,
        deployment_id=str(deployment_id),
        queue=config.queue,
        cron=config.cron,
        triggers=list(config.triggers),
    )


def deploy_flows(
    project: Project, on_progress: Callable[[str], None] | None = None
) -> DeployReport:
    """Create or update the queues, then every configured deployment (idempotent).

    Queues are applied in priority order, so Prefect's shifting of equal priorities never
    moves a queue configured earlier.
    """
    config = load_flows_config(project)
    if not config.flows and not config.queues:
        raise FlowsConfigError(
            "pyproject.toml declares no [tool.strata.flows]; add one, see docs/flows.md."
        )
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with prefect_api(project), get_client(sync_client=True) as client:
        try:
            client.read_work_pool(WORK_POOL)
        except ObjectNotFound as exc:
            raise StackNotRunningError(
                f"The work pool '{WORK_POOL}' does not exist yet; its worker creates it: "
                "run `strata stack up` and check `strata stack logs prefect-worker`."
            ) from exc
        queues = []
        for queue in sorted(config.queues.values(), key=lambda q: q.priority):
            if on_progress:
                on_progress(f"queue {queue.name}")
            queues.append(_apply_queue(client, queue))
        deployments = []
        for flow_config in config.flows.values():
            if on_progress:
                on_progress(f"deployment {flow_config.name}")
            deployments.append(_deploy_one(project, flow_config))
    return DeployReport(queues=queues, deployments=deployments)


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


def list_flows(project: Project) -> list[FlowStatus]:
    """Every configured flow with what the scheduler knows of its deployment."""
    config = load_flows_config(project)
    from prefect.client.orchestration import get_client

    rows: list[FlowStatus] = []
    with prefect_api(project), get_client(sync_client=True) as client:
        deployed = _deployments(client, project)
        queues = {q.name: q for q in client.read_work_queues(work_pool_name=WORK_POOL)}
        for name in config.flows:
            deployment = deployed.get(name)
            if deployment is None:
                rows.append(FlowStatus(name=name, deployed=False))
                continue
            queue = queues.get(deployment.work_queue_name or "")
            automations = client.read_resource_related_automations(
                f"prefect.deployment.{deployment.id}"
            )
            last = _runs(client, deployment.id, scheduled=False)
            upcoming = _runs(client, deployment.id, scheduled=True)
            crons = [getattr(s.schedule, "cron", None) for s in deployment.schedules]
            rows.append(
                FlowStatus(
                    name=name,
                    deployed=True,
                    flow=client.read_flow(deployment.flow_id).name,
                    queue=deployment.work_queue_name,
                    priority=queue.priority if queue else None,
                    concurrency_limit=queue.concurrency_limit if queue else None,
                    schedule=", ".join(str(c) for c in crons if c) or None,
                    triggers=sorted(
                        event
                        for automation in automations
                        for event in getattr(automation.trigger, "expect", set())
                    ),
                    last_state=last[0].state_name if last else None,
                    last_time=(last[0].start_time or last[0].expected_start_time) if last else None,
                    next_run=upcoming[0].expected_start_time if upcoming else None,
                )
            )
    return rows


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
    load_flows_config(project).flow(name)
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
