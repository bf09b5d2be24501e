"""``[tool.strata.monitoring]``: the drift window and thresholds, each validated."""

from __future__ import annotations

import pytest

from stratakit.errors import SettingsError
from stratakit.settings.monitoring import MonitoringSettings, parse_duration, parse_monitoring


def test_defaults_and_overrides() -> None:
    assert parse_monitoring({}) == MonitoringSettings()
    parsed = parse_monitoring({"window": "7d", "min_rows": 50, "numeric_threshold": 0.25})
    assert (parsed.window, parsed.window_seconds, parsed.min_rows) == ("7d", 604_800.0, 50)
    assert parsed.numeric_threshold == 0.25


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("15m", 900), ("24h", 86_400), ("2w", 1_209_600)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text, "x") == seconds


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"windows": "1d"}, "unknown key 'windows' \\(did you mean 'window'\\?\\)"),
        ({"window": "yesterday"}, "is not a duration"),
        ({"window": "0h"}, "is not a duration"),
        ({"min_rows": 0}, "min_rows = 0 must be an integer >= 1"),
        ({"bins": 1}, "bins = 1 must be an integer >= 2"),
        ({"numeric_threshold": -0.1}, "must be a positive number"),
        ({"categorical_threshold": 1.5}, "must be at most 1"),
        ({"missing_threshold": True}, "must be a positive number"),
    ],
)
def test_a_bad_monitoring_setting_is_named(table: object, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_monitoring(table)
