"""``[tool.strata.quality_gate]``: bounds parsed, and every malformed entry refused by name."""

from __future__ import annotations

import pytest

from stratakit.errors import SettingsError
from stratakit.settings import Threshold
from stratakit.settings.quality_gate import parse_quality_gate


def test_gate_bounds_are_parsed() -> None:
    gate = parse_quality_gate({"auc": {"min": 0.8}, "loss": {"max": 0.5, "min": 0}})
    assert gate == (Threshold("auc", min=0.8), Threshold("loss", min=0.0, max=0.5))
    assert gate[1].describe() == "loss >= 0 and loss <= 0.5"
    assert parse_quality_gate({}) == ()


@pytest.mark.parametrize(
    "table",
    [
        {"auc": 0.8},
        {"auc": {}},
        {"auc": {"minimum": 0.8}},
        {"auc": {"min": "high"}},
        {"auc": {"min": True}},
        {"auc": {"min": 0.9, "max": 0.1}},
        "auc >= 0.8",
    ],
)
def test_bad_gate_settings_are_refused(table: object) -> None:
    with pytest.raises(SettingsError, match=r"\[tool.strata.quality_gate\]"):
        parse_quality_gate(table)
