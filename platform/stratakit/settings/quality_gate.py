"""``[tool.strata.quality_gate]``: metric bounds a model version must meet to be promoted.

Declared next to the code whose models it judges::

    [tool.strata.quality_gate]
    test_roc_auc = { min = 0.75 }
    test_log_loss = { max = 0.45 }
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stratakit.errors import SettingsError
from stratakit.settings import _validate

SETTING = _validate.where("quality_gate")


@dataclass(frozen=True)
class Threshold:
    """One metric's bounds (inclusive); at least one is set."""

    metric: str
    min: float | None = None
    max: float | None = None

    def describe(self) -> str:
        """``metric >= 0.75``, ``metric <= 0.4`` or both."""
        parts = []
        if self.min is not None:
            parts.append(f"{self.metric} >= {self.min:g}")
        if self.max is not None:
            parts.append(f"{self.metric} <= {self.max:g}")
        return " and ".join(parts)


def _bound(metric: str, bounds: Mapping[str, Any], key: str) -> float | None:
    value = bounds.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingsError(
            f"{SETTING} {metric}.{key} must be a number (got {value!r}); e.g. {{ {key} = 0.75 }}."
        )
    return float(value)


def parse_quality_gate(raw: object) -> tuple[Threshold, ...]:
    """Validate ``[tool.strata.quality_gate]``: ``metric = { min = N, max = N }`` entries."""
    if not isinstance(raw, Mapping):
        raise SettingsError(f"{SETTING} must be a table of metric = {{ min = …, max = … }}.")
    thresholds = []
    for metric, bounds in raw.items():
        if not isinstance(bounds, Mapping) or not set(bounds) or set(bounds) - {"min", "max"}:
            raise SettingsError(
                f"{SETTING} {metric} must be {{ min = N }}, {{ max = N }} or both (got {bounds!r})."
            )
        threshold = Threshold(
            str(metric), _bound(metric, bounds, "min"), _bound(metric, bounds, "max")
        )
        if (
            threshold.min is not None
            and threshold.max is not None
            and threshold.min > threshold.max
        ):
            raise SettingsError(
                f"{SETTING} {metric}: min {threshold.min} exceeds max {threshold.max}."
            )
        thresholds.append(threshold)
    return tuple(thresholds)
