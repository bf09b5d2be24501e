"""``[tool.strata.monitoring]``: the window and thresholds of the drift checks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stratakit.errors import SettingsError
from stratakit.settings import _validate

_LOCATION = _validate.where("monitoring")
_DURATION = re.compile(r"(?P<count>\d+)(?P<unit>[smhdw])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_duration(text: str, location: str) -> float:
    """``90s``, ``15m``, ``24h``, ``7d`` or ``2w`` in seconds; the error names the forms."""
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if not match or int(match["count"]) == 0:
        raise SettingsError(
            f"{location} = {text!r} is not a duration; use a positive number with one of "
            "s, m, h, d, w (for example 24h or 7d)."
        )
    return float(int(match["count"]) * _SECONDS[match["unit"]])


@dataclass(frozen=True)
class MonitoringSettings:
    """How drift is judged; the defaults are the field's usual ones."""

    window: str = "24h"
    """The logged predictions compared when a check names no window."""
    min_rows: int = 200
    """Below this many logged rows a feature's verdict is "not enough data", never drift."""
    numeric_threshold: float = 0.2
    """Population stability index at or above which a numeric feature has drifted."""
    categorical_threshold: float = 0.1
    """Jensen-Shannon distance (base 2) at or above which a categorical feature has drifted."""
    missing_threshold: float = 0.05
    """Rise of the share of missing values (current minus reference) that counts as drift."""
    bins: int = 10
    """Quantile bins of the reference for the stability index."""
    categorical_max_values: int = 10
    """A numeric feature with at most this many distinct reference values is categorical."""

    @property
    def window_seconds(self) -> float:
        """:attr:`window` in seconds."""
        return parse_duration(self.window, f"pyproject.toml {_LOCATION}.window")


_KEYS = (
    "window",
    "min_rows",
    "numeric_threshold",
    "categorical_threshold",
    "missing_threshold",
    "bins",
    "categorical_max_values",
)


def _share(value: object, location: str) -> float:
    number = _validate.positive_number(value, location)
    if number > 1:
        raise SettingsError(f"pyproject.toml {location} = {value!r} must be at most 1.")
    return number


def parse_monitoring(raw: object) -> MonitoringSettings:
    """Validate ``[tool.strata.monitoring]``."""
    entries: Mapping[str, Any] = _validate.table(raw, _LOCATION)
    _validate.known_keys(entries, _KEYS, _LOCATION)
    values: dict[str, Any] = {}
    if "window" in entries:
        parse_duration(entries["window"], f"pyproject.toml {_LOCATION}.window")
        values["window"] = entries["window"].strip()
    for key, minimum in (("min_rows", 1), ("bins", 2), ("categorical_max_values", 1)):
        if key in entries:
            values[key] = _validate.integer(entries[key], f"{_LOCATION}.{key}", minimum)
    if "numeric_threshold" in entries:
        values["numeric_threshold"] = _validate.positive_number(
            entries["numeric_threshold"], f"{_LOCATION}.numeric_threshold"
        )
    for key in ("categorical_threshold", "missing_threshold"):
        if key in entries:
            values[key] = _share(entries[key], f"{_LOCATION}.{key}")
    return MonitoringSettings(**values)
