"""Judging a version's metrics against the project's quality gate (declared in settings)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from stratakit.settings import Threshold


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


def judge(thresholds: Iterable[Threshold], metrics: Mapping[str, float]) -> list[GateResult]:
    """Each threshold against the version's metrics."""
    return [GateResult(t, metrics.get(t.metric)) for t in thresholds]
