"""Moving aliases: ``promote`` (only through the quality gate) and ``rollback``.

Each move records who, when and why as tags on the version it points the alias at, and
the alias's history as a tag on the model, so a rollback knows where to return.
"""

from __future__ import annotations

import getpass
import json
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from stratakit.errors import InvalidInputError, ModelNotFoundError, QualityGateError
from stratakit.registry.catalog import describe
from stratakit.registry.lineage import TAG_PREFIX
from stratakit.registry.quality_gate import GateResult, judge
from stratakit.registry.refs import ModelRef, alias_version
from stratakit.registry.tracking_api import TrackingAPI
from stratakit.settings import Threshold
from stratakit.settings.quality_gate import SETTING

HISTORY_TAG = TAG_PREFIX + "alias_history."


@dataclass(frozen=True)
class AliasMove:
    """What ``promote`` or ``rollback`` did."""

    name: str
    alias: str
    version: str
    previous: str | None
    gate: list[GateResult] = field(default_factory=list)


def actor(root: Path) -> str:
    """Who is acting: the project's git identity, else the login name."""
    try:
        done = subprocess.run(
            ["git", "config", "user.email"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except OSError:  # no git on this machine: the login name still says who
        return getpass.getuser()
    return done.stdout.strip() or getpass.getuser()


def _history(api: TrackingAPI, name: str, alias: str) -> list[str]:
    raw = api.registered_model(name).tags.get(HISTORY_TAG + alias, "[]")
    try:
        history = json.loads(raw)
    except json.JSONDecodeError:
        return []
    return [str(v) for v in history] if isinstance(history, list) else []


def _tag_event(
    api: TrackingAPI, name: str, version: str, event: str, values: Mapping[str, str]
) -> None:
    """Write ``strata.<event>.<key>`` tags (who, when, why…) on the version."""
    for key, value in values.items():
        api.set_version_tag(name, version, f"{TAG_PREFIX}{event}.{key}", value)


def promote(
    api: TrackingAPI,
    ref: ModelRef,
    alias: str,
    thresholds: Iterable[Threshold],
    *,
    reason: str,
    actor: str,
    now: datetime | None = None,
) -> AliasMove:
    """Point ``alias`` at the version if it passes every threshold; record who, when, why."""
    thresholds = list(thresholds)
    if not thresholds:
        raise QualityGateError(
            f"The project declares no quality gate; add {SETTING} to pyproject.toml "
            "(e.g. test_roc_auc = { min = 0.75 }) before promoting."
        )
    info = describe(api, ref)
    results = judge(thresholds, info.metrics)
    failed = [r for r in results if not r.passed]
    if failed:
        raise QualityGateError(
            f"{info.name} version {info.version} fails the quality gate ("
            + "; ".join(r.explain() for r in failed)
            + f"): '{alias}' not moved."
        )
    previous = alias_version(api, info.name, alias)
    history = _history(api, info.name, alias)
    if previous and (not history or history[-1] != previous):
        history.append(previous)  # the alias was set outside strata: keep it reachable
    if previous != info.version:
        api.set_alias(info.name, alias, info.version)
        history.append(info.version)
        api.set_model_tag(info.name, HISTORY_TAG + alias, json.dumps(history))
    _tag_event(api, info.name, info.version, "promotion", {
        "alias": alias,
        "by": actor,
        "at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "reason": reason,
        "previous": previous or "none",
        "gate": "; ".join(r.explain() for r in results),
    })  # fmt: skip
    return AliasMove(info.name, alias, info.version, previous, results)


def rollback(
    api: TrackingAPI, name: str, alias: str, *, reason: str, actor: str, now: datetime | None = None
) -> AliasMove:
    """Point ``alias`` back at the version it held before the current one."""
    current = alias_version(api, name, alias)
    if current is None:
        raise ModelNotFoundError(f"{name} has no '{alias}' alias to roll back.")
    history = _history(api, name, alias)
    while history and history[-1] == current:
        history.pop()
    if not history:
        raise InvalidInputError(
            f"{name}@{alias} (version {current}) has no earlier version recorded by "
            "`strata model promote` to return to."
        )
    target = history[-1]
    api.set_alias(name, alias, target)
    api.set_model_tag(name, HISTORY_TAG + alias, json.dumps(history))
    _tag_event(api, name, target, "rollback", {
        "alias": alias,
        "by": actor,
        "at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "reason": reason,
        "from": current,
    })  # fmt: skip
    return AliasMove(name, alias, target, current)
