"""``strata data push``: DVC data to the project's bucket, then the event that starts pipelines.

The event ``strata.data.pushed`` concerns the resource ``strata.project.<slug>`` and carries
the DVC-tracked paths with their md5, so a deployment triggered by it knows what changed.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stratakit.contract import child_environment
from stratakit.data_versions import read_hashes
from stratakit.errors import InvalidInputError, StrataError
from stratakit.flows.connection import prefect_api, resource_id
from stratakit.project import Project
from stratakit.settings import DATA_PUSHED_EVENT
from stratakit.stack.context import project_contract


@dataclass(frozen=True)
class PushedEvent:
    """The event as sent: its id, the resource it concerns and the data it names."""

    event: str
    event_id: str
    resource: str
    data: dict[str, str]


def select_data(data: dict[str, str], paths: Sequence[str]) -> dict[str, str]:
    """The entries of ``data`` named in ``paths`` (all of them when ``paths`` is empty)."""
    if not paths:
        return data
    unknown = [p for p in paths if p not in data]
    if unknown:
        known = ", ".join(data) or "none"
        raise InvalidInputError(
            f"'{unknown[0]}' is not tracked by DVC here (tracked: {known}); "
            "track it with `dvc add` or a dvc.yaml stage first."
        )
    return {p: data[p] for p in paths}


def push_data(project: Project, paths: Sequence[str] = ()) -> str:
    """Run ``dvc push`` in the project with the contract's environment; returns its output."""
    env = child_environment(project_contract(project))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "dvc", "push", *paths],
            cwd=project.root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=3600,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StrataError(f"`dvc push` could not run ({exc}); check `dvc doctor`.") from exc
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise StrataError(
            f"`dvc push` failed: {last[0]} Fix it and retry, or pass --event-only to only "
            "announce data pushed another way."
        )
    return done.stdout.strip()


def emit_project_event(project: Project, event: str, payload: dict[str, Any]) -> str:
    """Send ``event`` about the project's resource (what its triggers match).

    Waits until Prefect has received it; returns the event's id.
    """
    with prefect_api(project):
        from prefect.events import emit_event
        from prefect.events.worker import EventsWorker

        sent = emit_event(
            event,
            resource={
                "prefect.resource.id": resource_id(project),
                "prefect.resource.name": project.name,
            },
            payload=payload,
        )
        # Events leave through a background worker: flush it before the command returns.
        # Its "Still processing items" warning while flushing is noise for a CLI user.
        drain_log = logging.getLogger(EventsWorker.__name__)
        level = drain_log.level
        drain_log.setLevel(logging.ERROR)
        try:
            EventsWorker.drain_all(timeout=30)
        finally:
            drain_log.setLevel(level)
    if sent is None:
        raise StrataError(
            "Prefect did not send the event (events are off for this API URL); check "
            "PREFECT_API_URL with `strata stack env`."
        )
    return str(sent.id)


def emit_data_pushed(project: Project, paths: Sequence[str] = ()) -> PushedEvent:
    """Send ``strata.data.pushed`` for the project and wait until Prefect has received it."""
    data = select_data(read_hashes(project.root).outputs, paths)
    event_id = emit_project_event(project, DATA_PUSHED_EVENT, {"paths": data})
    return PushedEvent(
        event=DATA_PUSHED_EVENT, event_id=event_id, resource=resource_id(project), data=data
    )
