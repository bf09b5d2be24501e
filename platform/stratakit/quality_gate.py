"""The project's quality gate: metric thresholds a model version must pass to be promoted.

Declared in ``pyproject.toml``, next to the code whose models it judges::

    [tool.strata.quality_gate]
    test_roc_auc = { min = 0.75 }
    test_log_loss = { max = 0.45 }
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stratakit.errors import InvalidInputError

SETTING = "[tool.strata.quality_gate]"


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


@dataclass(frozen=True)
class GateResult:
    """How one threshold judged one version's metrics."""

    threshold: Threshold
    value: float | None

    @property
    def passed(self) -> bool:
        """False when the metric is missing, not a number, or out of bounds."""
        value, bounds = self.value, self.threshold
        if value is None or math.isnan(value):
            return False
        return (bounds.min is None or value >= bounds.min) and (
            bounds.max is None or value <= bounds.max
        )

    def explain(self) -> str:
        """One line: the metric's value against its threshold."""
        if self.value is None:
            return f"{self.threshold.metric} is not logged (gate: {self.threshold.describe()})"
        verdict = "passes" if self.passed else "fails"
        return f"{self.threshold.metric} = {self.value:.4g} {verdict} {self.threshold.describe()}"


def _bound(metric: str, bounds: Mapping[str, Any], key: str) -> float | None:
    value = bounds.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(
            f"{SETTING} {metric}.{key} must be a number (got {value!r}); e.g. {{ {key} = 0.75 }}."
        )
    return float(value)


def load_gate(settings: Mapping[str, Any]) -> list[Threshold]:
    """The thresholds declared in the project's ``[tool.strata]`` settings (validated)."""
    table = settings.get("quality_gate", {})
    if not isinstance(table, Mapping):
        raise InvalidInputError(f"{SETTING} must be a table of metric = {{ min = …, max = … }}.")
    thresholds = []
    for metric, bounds in table.items():
        if not isinstance(bounds, Mapping) or not set(bounds) or set(bounds) - {"min", "max"}:
            raise InvalidInputError(
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
            raise InvalidInputError(
                f"{SETTING} {metric}: min {threshold.min} exceeds max {threshold.max}."
            )
        thresholds.append(threshold)
    return thresholds


def judge(thresholds: list[Threshold], metrics: Mapping[str, float]) -> list[GateResult]:
    """Each threshold against the version's metrics."""
    return [GateResult(t, metrics.get(t.metric)) for t in thresholds]
