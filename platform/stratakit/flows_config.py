"""The project's scheduled pipelines, as declared in ``pyproject.toml``.

``[tool.strata.queues]`` names the work queues of the stack's pool with their priority and
concurrency limit; ``[tool.strata.flows.NAME]`` names one deployment each. Parsing is pure
apart from reading the entrypoint files, and every mistake is a :class:`FlowsConfigError`
whose one line names the key and the fix.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stratakit.errors import FlowNotFoundError, FlowsConfigError, InvalidInputError
from stratakit.project import Project

#: The queue every Prefect work pool has; a flow without ``queue`` runs there.
DEFAULT_QUEUE = "default"
#: The event ``strata data push`` emits.
DATA_PUSHED_EVENT = "strata.data.pushed"

_QUEUE_KEYS = ("priority", "concurrency_limit")
_FLOW_KEYS = ("entrypoint", "queue", "cron", "parameters", "triggers", "description")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
_EVENT = re.compile(r"[A-Za-z0-9_*-]+(\.[A-Za-z0-9_*-]+)*")


@dataclass(frozen=True)
class QueueConfig:
    """A work queue of the pool: lower ``priority`` is served first; ``None`` limit: unlimited."""

    name: str
    priority: int
    concurrency_limit: int | None = None


@dataclass(frozen=True)
class FlowConfig:
    """One deployment: which function, on which queue, when (cron) and on which events."""

    name: str
    entrypoint: str
    queue: str = DEFAULT_QUEUE
    cron: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
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


@dataclass(frozen=True)
class FlowsConfig:
    """Every queue and flow the project declares (both empty when it declares none)."""

    queues: dict[str, QueueConfig]
    flows: dict[str, FlowConfig]

    def flow(self, name: str) -> FlowConfig:
        """The flow called ``name``, or an error listing the configured ones."""
        if name not in self.flows:
            known = ", ".join(self.flows) or "none"
            raise FlowNotFoundError(
                f"No flow '{name}' in pyproject.toml [tool.strata.flows] (configured: {known}); "
                f"add a [tool.strata.flows.{name}] table or use one of those names."
            )
        return self.flows[name]


def _table(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FlowsConfigError(f"pyproject.toml {where} must be a table, not {value!r}.")
    return value


def _check_keys(table: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise FlowsConfigError(
            f"pyproject.toml {where} has unknown key '{unknown[0]}'; "
            f"valid keys: {', '.join(allowed)}."
        )


def _positive_int(value: object, where: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise FlowsConfigError(
            f"pyproject.toml {where} = {value!r} must be an integer >= {minimum}."
        )
    return value


def _check_name(name: str, where: str) -> None:
    if not _NAME.fullmatch(name):
        raise FlowsConfigError(
            f"pyproject.toml {where} is not a valid name; use letters, digits, '-' and '_' "
            "(at most 63, starting with a letter or digit)."
        )


def parse_queues(table: object) -> dict[str, QueueConfig]:
    """Validate ``[tool.strata.queues]``; priorities must be distinct (Prefect keeps them so)."""
    queues: dict[str, QueueConfig] = {}
    by_priority: dict[int, str] = {}
    for name, raw in _table(table, "[tool.strata.queues]").items():
        where = f"[tool.strata.queues].{name}"
        _check_name(name, where)
        entry = _table(raw, where)
        _check_keys(entry, _QUEUE_KEYS, where)
        if "priority" not in entry:
            raise FlowsConfigError(
                f"pyproject.toml {where} needs a priority, e.g. {{ priority = 1 }} "
                "(lower number = served first)."
            )
        priority = _positive_int(entry["priority"], f"{where}.priority", 1)
        if priority in by_priority:
            raise FlowsConfigError(
                f"pyproject.toml {where}.priority = {priority} is also the priority of queue "
                f"'{by_priority[priority]}'; give each queue its own priority."
            )
        by_priority[priority] = name
        limit = entry.get("concurrency_limit")
        queues[name] = QueueConfig(
            name=name,
            priority=priority,
            concurrency_limit=None
            if limit is None
            else _positive_int(limit, f"{where}.concurrency_limit", 0),
        )
    return queues


def valid_cron(cron: object, where: str) -> str:
    """``cron`` if Prefect's cron schedule accepts it, else a :class:`FlowsConfigError`."""
    from prefect.client.schemas.schedules import CronSchedule
    from pydantic import ValidationError

    if not isinstance(cron, str):
        raise FlowsConfigError(f"pyproject.toml {where} = {cron!r} must be a cron string.")
    try:
        CronSchedule(cron=cron)
    except ValidationError as exc:
        raise FlowsConfigError(
            f"pyproject.toml {where} = {cron!r} is not a valid cron expression; use five "
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


def _entrypoint(value: object, where: str, root: Path) -> str:
    if not isinstance(value, str) or value.count(":") != 1 or not all(value.split(":")):
        raise FlowsConfigError(
            f"pyproject.toml {where} = {value!r} must be 'PATH:FUNCTION', "
            "e.g. 'src/pkg/flows.py:materialize' (PATH relative to the project root)."
        )
    path, function = value.split(":")
    file = root / path
    if Path(path).is_absolute() or not file.is_file():
        raise FlowsConfigError(
            f"pyproject.toml {where}: file '{path}' not found under {root}; give the path of "
            "the flow's file relative to the project root."
        )
    try:
        found = defines_function(file.read_text(encoding="utf-8"), function)
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        raise FlowsConfigError(
            f"pyproject.toml {where}: '{path}' cannot be read as Python ({exc}); fix the file."
        ) from exc
    if not found:
        raise FlowsConfigError(
            f"pyproject.toml {where}: '{path}' defines no function '{function}'; "
            "name a @flow function defined at the top level of that file."
        )
    return value


def _triggers(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(
        isinstance(event, str) and _EVENT.fullmatch(event) for event in value
    ):
        raise FlowsConfigError(
            f"pyproject.toml {where} = {value!r} must be a list of event names, "
            f'e.g. ["{DATA_PUSHED_EVENT}"].'
        )
    return tuple(value)


def parse_flow(name: str, raw: object, queues: dict[str, QueueConfig], root: Path) -> FlowConfig:
    """Validate one ``[tool.strata.flows.NAME]`` table against the queues and the files."""
    where = f"[tool.strata.flows.{name}]"
    _check_name(name, where)
    entry = _table(raw, where)
    _check_keys(entry, _FLOW_KEYS, where)
    if "entrypoint" not in entry:
        raise FlowsConfigError(
            f"pyproject.toml {where} needs entrypoint = 'PATH:FUNCTION', "
            "e.g. 'src/pkg/flows.py:materialize'."
        )
    entrypoint = _entrypoint(entry["entrypoint"], f"{where}.entrypoint", root)
    queue = entry.get("queue", DEFAULT_QUEUE)
    if not isinstance(queue, str) or (queue != DEFAULT_QUEUE and queue not in queues):
        known = ", ".join([*queues, DEFAULT_QUEUE])
        raise FlowsConfigError(
            f"pyproject.toml {where}.queue = {queue!r} is not a queue; declare it under "
            f"[tool.strata.queues] or use one of: {known}."
        )
    parameters = entry.get("parameters", {})
    if not isinstance(parameters, dict):
        raise FlowsConfigError(
            f"pyproject.toml {where}.parameters = {parameters!r} must be a table, "
            "e.g. { limit = 10 }."
        )
    description = entry.get("description")
    if description is not None and not isinstance(description, str):
        raise FlowsConfigError(f"pyproject.toml {where}.description must be a string.")
    cron = entry.get("cron")
    return FlowConfig(
        name=name,
        entrypoint=entrypoint,
        queue=queue,
        cron=None if cron is None else valid_cron(cron, f"{where}.cron"),
        parameters=parameters,
        triggers=_triggers(entry.get("triggers", []), f"{where}.triggers"),
        description=description,
    )


def parse_flows_config(settings: dict[str, Any], root: Path) -> FlowsConfig:
    """The flows and queues of a ``[tool.strata]`` table; entrypoints resolve under ``root``."""
    queues = parse_queues(settings.get("queues", {}))
    table = _table(settings.get("flows", {}), "[tool.strata.flows]")
    flows = {name: parse_flow(name, raw, queues, root) for name, raw in table.items()}
    return FlowsConfig(queues=queues, flows=flows)


def load_flows_config(project: Project) -> FlowsConfig:
    """The project's validated flow configuration."""
    return parse_flows_config(project.settings, project.root)


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
