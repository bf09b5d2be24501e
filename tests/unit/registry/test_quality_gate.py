"""The quality gate judging a version's metrics: pass, fail, missing and NaN metrics."""

from __future__ import annotations

import math

from stratakit.registry.quality_gate import judge
from stratakit.settings import Threshold


def test_gate_judges_each_threshold() -> None:
    gate = (Threshold("auc", min=0.8), Threshold("loss", min=0.0, max=0.5))
    results = judge(gate, {"auc": 0.79, "loss": 0.2})
    assert [r.passed for r in results] == [False, True]
    assert results[0].explain() == "auc = 0.79 fails auc >= 0.8"
    assert results[1].explain() == "loss = 0.2 passes loss >= 0 and loss <= 0.5"
    assert not judge(gate, {"loss": 0.2})[0].passed  # missing metric
    assert "not logged" in judge(gate, {})[0].explain()
    assert not judge(gate, {"auc": math.nan})[0].passed
    assert judge((), {"auc": 1.0}) == []
