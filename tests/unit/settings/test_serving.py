"""``[tool.strata.serving]``: the alias and the gateway's knobs, as its variables."""

from __future__ import annotations

import pytest

from stratakit.errors import SettingsError
from stratakit.settings.serving import ServingSettings, parse_serving


def test_serving_table_becomes_the_gateways_variables() -> None:
    assert parse_serving({}).environment() == {"STRATA_SERVING_ALIAS": "production"}
    settings = parse_serving({"alias": "champion", "poll_seconds": 0.5, "max_body_bytes": 1024})
    assert settings == ServingSettings(alias="champion", poll_seconds=0.5, max_body_bytes=1024)
    assert settings.environment() == {
        "STRATA_SERVING_ALIAS": "champion",
        "STRATA_GATEWAY_POLL_SECONDS": "0.5",
        "STRATA_GATEWAY_MAX_BODY_BYTES": "1024",
    }
    assert (
        parse_serving({"log_flush_seconds": 2}).environment()["STRATA_GATEWAY_LOG_FLUSH_SECONDS"]
        == "2"
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"alais": "x"}, "unknown key 'alais' \\(did you mean 'alias'\\?\\)"),
        ({"poll_seconds": "fast"}, r"serving\]\.poll_seconds = 'fast' must be a positive number"),
        ({"poll_seconds": 0}, "must be a positive number"),
        ({"poll_seconds": True}, "must be a positive number"),
        ({"max_body_bytes": 1.5}, "must be an integer >= 1"),
        ({"alias": "two words"}, "must be an alias name"),
        ([], "must be a table"),
    ],
)
def test_a_bad_serving_setting_is_named(table: object, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_serving(table)
