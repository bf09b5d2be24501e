"""``strata flows deploy``: the project's work queues and deployments on the stack's Prefect.

Idempotent: queues are created or updated to match ``[tool.strata.queues]``, deployments
to match ``[tool.strata.flows]``; running it twice changes nothing the second time.

A flow with a parameter named ``event`` learns which of its triggers started a run: each
trigger passes the event's name there (empty for a run started by hand or by its cron).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from stratakit.errors import SettingsError, StackNotRunningError
from stratakit.flows.connection import prefect_api, resource_id
from stratakit.project import Project
from stratakit.settings import FlowSettings, QueueSettings
from stratakit.stack.services.scheduler import WORK_POOL

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient

#: The flow parameter a trigger fills with the name of the event that started the run.
EVENT_PARAMETER = "event"


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


def _apply_queue(client: SyncPrefectClient, queue: QueueSettings) -> QueueResult:
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


def _deploy_one(project: Project, config: FlowSettings) -> DeployResult:
    from prefect import Flow, flow
    from prefect.events import DeploymentEventTrigger, DeploymentTriggerTypes, TriggerTypes

    try:
        # Prefect's API returns coroutines only inside an event loop; here it is synchronous.
        deployable = cast(
            "Flow[..., Any]",
            flow.from_source(source=str(project.root), entrypoint=config.entrypoint),
        )
    except Exception as exc:  # the user's module raised while Prefect imported it
        raise SettingsError(
            f"pyproject.toml [tool.strata.flows.{config.name}].entrypoint "
            f"'{config.entrypoint}' could not be loaded ({type(exc).__name__}: {exc}); "
            f"run `python {config.path}` to see why."
        ) from exc
    # Prefect renders the parameters of a triggered run as templates over the event.
    tells_event = EVENT_PARAMETER in deployable.parameters.properties
    triggers: list[DeploymentTriggerTypes | TriggerTypes] = [
        DeploymentEventTrigger(
            name=f"{config.name} on {event}",
            expect={event},
            match={"prefect.resource.id": resource_id(project)},
            parameters=(
                {**config.parameters, EVENT_PARAMETER: "{{ event.event }}"} if tells_event else None
            ),
        )
        for event in config.triggers
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        deployment_id = deployable.deploy(
            name=config.name,
            work_pool_name=WORK_POOL,
            work_queue_name=config.queue,
            cron=config.cron,
            parameters=dict(config.parameters),
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
    config = project.settings
    if not config.flows and not config.queues:
        raise SettingsError(
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
