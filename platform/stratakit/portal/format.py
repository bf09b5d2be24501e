"""How the portal writes numbers, times and states (Jinja2 filters)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

#: Each state's class in the page's stylesheet (colour plus a word: never colour alone).
STATE_CLASSES = {
    "healthy": "good",
    "ok": "good",
    "completed": "good",
    "running": "busy",
    "starting": "busy",
    "pending": "busy",
    "not enough data": "quiet",
    "drift": "bad",
    "stopped": "bad",
    "failed": "bad",
    "crashed": "bad",
    "fail": "bad",
    "warn": "warn",
}


def state_class(state: object) -> str:
    """``healthy`` → ``good``; unknown states are ``quiet``."""
    return STATE_CLASSES.get(str(state or "").lower(), "quiet")


def when(value: object) -> str:
    """A time as ``2026-12-03 17:50 UTC`` (``-`` when absent)."""
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if not isinstance(value, datetime):
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def seconds(value: float | None) -> str:
    """A duration: ``850 ms``, ``12.3 s``, ``4m 05s``, ``2h 10m``, ``3d 4h``."""
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.1f} s"
    whole = int(value)
    for size, big, small, unit in ((86400, "d", "h", 3600), (3600, "h", "m", 60)):
        if whole >= size:
            return f"{whole // size}{big} {(whole % size) // unit}{small}"
    return f"{whole // 60}m {whole % 60:02d}s"


def number(value: float | None, digits: int = 1) -> str:
    """A measured number, ``-`` when there is none."""
    return "-" if value is None else f"{value:.{digits}f}"


def percent(value: float | None) -> str:
    """A share as ``1.5%``."""
    return "-" if value is None else f"{value:.1%}"


def short(value: str | None, size: int = 12) -> str:
    """A digest or commit, shortened (the full value goes in a title)."""
    return "-" if not value else value[:size]


FILTERS: dict[str, Callable[..., Any]] = {
    "state_class": state_class,
    "when": when,
    "seconds": seconds,
    "number": number,
    "percent": percent,
    "short": short,
}
