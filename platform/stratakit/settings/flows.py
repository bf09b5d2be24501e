"""``[tool.strata.queues]`` and ``[tool.strata.flows.NAME]``: the project's scheduled pipelines.

Queues are the work queues of the stack's pool, with a priority and a concurrency limit;
each flow is one deployment. Parsing reads the entrypoint files (never imports them), so a
flow that names a missing function is caught before anything is deployed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stratakit.errors import SettingsError
from stratakit.settings import _validate

#: The queue every Prefect work pool has; a flow without ``queue`` runs there.
DEFAULT_QUEUE = "default"
#: The event ``strata data push`` emits.
DATA_PUSHED_EVENT = "strata.data.pushed"
#: The event ``strata monitor drift --emit`` sends when a served version has drifted.
DRIFT_DETECTED_EVENT = "strata.drift.detected"

_QUEUE_KEYS = ("priority", "concurrency_limit")
_FLOW_KEYS = ("entrypoint", "queue", "cron", "parameters", "triggers", "description")
_EVENT = re.compile(r"[A-Za-z0-9_*-]+(\.[A-Za-z0-9_*-]+)*")


@dataclass(frozen=True)
class QueueSettings:
    """A work queue of the pool: lower ``priority`` is served first; ``None`` limit: unlimited."""

    name: str
    priority: int
    concurrency_limit: int | None = None


@dataclass(frozen=True)
class FlowSettings:
    """One deployment: which function, on which queue, when (cron) and on which events."""

    name: str
    entrypoint: str
    queue: str = DEFAULT_QUEUE
    cron: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    triggers: tuple[str, ...] = ()
    description: str | None = None

    @property
    def path(self) -> str:
        """The entrypoint's file, relative to the project root."""
        return self.entrypoint.rpartition(":")[0]

    @property
    def function(self) -> str:
        """The entrypoint's flow function name."""
        return self.entrypoint.rpartition(":")[2]


def parse_queues(raw: object) -> dict[str, QueueSettings]:
    """Validate ``[tool.strata.queues]``; priorities must be distinct (Prefect keeps them so)."""
    queues: dict[str, QueueSettings] = {}
    by_priority: dict[int, str] = {}
    for name, entry_raw in _validate.table(raw, _validate.where("queues")).items():
        location = f"{_validate.where('queues')}.{name}"
        _validate.name(name, location)
        entry = _validate.table(entry_raw, location)
        _validate.known_keys(entry, _QUEUE_KEYS, location)
        if "priority" not in entry:
            raise SettingsError(
                f"pyproject.toml {location} needs a priority, e.g. {{ priority = 1 }} "
                "(lower number = served first)."
            )
        priority = _validate.integer(entry["priority"], f"{location}.priority", 1)
        if priority in by_priority:
            raise SettingsError(
                f"pyproject.toml {location}.priority = {priority} is also the priority of queue "
                f"'{by_priority[priority]}'; give each queue its own priority."
            )
        by_priority[priority] = name
        limit = entry.get("concurrency_limit")
        queues[name] = QueueSettings(
            name=name,
            priority=priority,
            concurrency_limit=None
            if limit is None
            else _validate.integer(limit, f"{location}.concurrency_limit", 0),
        )
    return queues


def valid_cron(cron: object, location: str) -> str:
    """``cron`` if it is a five-field cron expression, else a :class:`SettingsError`.

    cronsim (a dependency of Prefect's own scheduler) parses it without importing Prefect,
    which takes a second; Prefect validates it once more when the flow is deployed.
    """
    from cronsim import CronSim, CronSimError

    if not isinstance(cron, str):
        raise SettingsError(f"pyproject.toml {location} = {cron!r} must be a cron string.")
    try:
        if len(cron.split()) != 5:
            raise CronSimError("not five fields")
        CronSim(cron, datetime.now(UTC))
    except CronSimError as exc:
        raise SettingsError(
            f"pyproject.toml {location} = {cron!r} is not a valid cron expression; use five "
            "fields 'minute hour day month weekday', e.g. '0 * * * *' (hourly)."
        ) from exc
    return cron


def defines_function(source: str, function: str) -> bool:
    """Whether ``source`` defines ``function`` at module level (read, never imported)."""
    tree = ast.parse(source)
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function
        for node in tree.body
    )


def _entrypoint(value: object, location: str, root: Path) -> str:
    if not isinstance(value, str) or value.count(":") != 1 or not all(value.split(":")):
        raise SettingsError(
            f"pyproject.toml {location} = {value!r} must be 'PATH:FUNCTION', "
            "e.g. 'src/pkg/flows.py:materialize' (PATH relative to the project root)."
        )
    path, function = value.split(":")
    file = root / path
    if Path(path).is_absolute() or not file.is_file():
        raise SettingsError(
            f"pyproject.toml {location}: file '{path}' not found under {root}; give the path of "
            "the flow's file relative to the project root."
        )
    try:
        found = defines_function(file.read_text(encoding="utf-8"), function)
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        raise SettingsError(
            f"pyproject.toml {location}: '{path}' cannot be read as Python ({exc}); fix the file."
        ) from exc
    if not found:
        raise SettingsError(
            f"pyproject.toml {location}: '{path}' defines no function '{function}'; "
            "name a @flow function defined at the top level of that file."
        )
    return value


def _triggers(value: object, location: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(
        isinstance(event, str) and _EVENT.fullmatch(event) for event in value
    ):
        raise SettingsError(
            f"pyproject.toml {location} = {value!r} must be a list of event names, "
            f'e.g. ["{DATA_PUSHED_EVENT}"].'
        )
    return tuple(value)


def parse_flow(
    name: str, raw: object, queues: Mapping[str, QueueSettings], root: Path
) -> FlowSettings:
    """Validate one ``[tool.strata.flows.NAME]`` table against the queues and the files."""
    location = _validate.where("flows", name)
    _validate.name(name, location)
    entry = _validate.table(raw, location)
    _validate.known_keys(entry, _FLOW_KEYS, location)
    if "entrypoint" not in entry:
        raise SettingsError(
            f"pyproject.toml {location} needs entrypoint = 'PATH:FUNCTION', "
            "e.g. 'src/pkg/flows.py:materialize'."
        )
    entrypoint = _entrypoint(entry["entrypoint"], f"{location}.entrypoint", root)
    queue = entry.get("queue", DEFAULT_QUEUE)
    if not isinstance(queue, str) or (queue != DEFAULT_QUEUE and queue not in queues):
        known = ", ".join([*queues, DEFAULT_QUEUE])
        raise SettingsError(
            f"pyproject.toml {location}.queue = {queue!r} is not a queue; declare it under "
            f"{_validate.where('queues')} or use one of: {known}."
        )
    parameters = entry.get("parameters", {})
    if not isinstance(parameters, Mapping):
        raise SettingsError(
            f"pyproject.toml {location}.parameters = {parameters!r} must be a table, "
            "e.g. { limit = 10 }."
        )
    description = entry.get("description")
    if description is not None and not isinstance(description, str):
        raise SettingsError(f"pyproject.toml {location}.description must be a string.")
    cron = entry.get("cron")
    return FlowSettings(
        name=name,
        entrypoint=entrypoint,
        queue=queue,
        cron=None if cron is None else valid_cron(cron, f"{location}.cron"),
        parameters=dict(parameters),
        triggers=_triggers(entry.get("triggers", []), f"{location}.triggers"),
        description=description,
    )


def parse_flows(
    raw: object, queues: Mapping[str, QueueSettings], root: Path
) -> dict[str, FlowSettings]:
    """Validate ``[tool.strata.flows]``; entrypoints resolve under ``root``."""
    entries = _validate.table(raw, _validate.where("flows"))
    return {name: parse_flow(name, entry, queues, root) for name, entry in entries.items()}
