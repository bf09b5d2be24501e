"""Checks shared by every ``[tool.strata]`` section; each failure names the key and the fix."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from stratakit.errors import SettingsError

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")


def where(*path: str) -> str:
    """``[tool.strata.a.b]`` for a table path (``[tool.strata]`` for none)."""
    return "[" + ".".join(("tool", "strata", *path)) + "]"


def table(value: object, location: str) -> Mapping[str, Any]:
    """``value`` if it is a TOML table."""
    if not isinstance(value, Mapping):
        raise SettingsError(f"pyproject.toml {location} must be a table, not {value!r}.")
    return value


def known_keys(entries: Mapping[str, Any], allowed: Iterable[str], location: str) -> None:
    """Refuse the first unknown key, suggesting the nearest valid one."""
    valid = list(allowed)
    unknown = sorted(set(entries) - set(valid))
    if not unknown:
        return
    near = difflib.get_close_matches(unknown[0], valid, n=1) or [
        key for key in valid if unknown[0].startswith(key) or key.startswith(unknown[0])
    ]
    hint = f" (did you mean '{near[0]}'?)" if near else ""
    raise SettingsError(
        f"pyproject.toml {location} has unknown key '{unknown[0]}'{hint}; "
        f"valid keys: {', '.join(valid)}."
    )


def positive_number(value: object, location: str) -> float:
    """A number above zero (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise SettingsError(f"pyproject.toml {location} = {value!r} must be a positive number.")
    return float(value)


def integer(value: object, location: str, minimum: int) -> int:
    """An integer of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SettingsError(
            f"pyproject.toml {location} = {value!r} must be an integer >= {minimum}."
        )
    return value


def boolean(value: object, location: str) -> bool:
    """``true`` or ``false`` (TOML's booleans, not 0, 1 or strings)."""
    if not isinstance(value, bool):
        raise SettingsError(f"pyproject.toml {location} = {value!r} must be true or false.")
    return value


def text(value: object, location: str) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(f"pyproject.toml {location} = {value!r} must be a non-empty string.")
    return value


def name(value: str, location: str) -> str:
    """A queue or flow name Prefect accepts and a shell need not quote."""
    if not _NAME.fullmatch(value):
        raise SettingsError(
            f"pyproject.toml {location} is not a valid name; use letters, digits, '-' and '_' "
            "(at most 63, starting with a letter or digit)."
        )
    return value
