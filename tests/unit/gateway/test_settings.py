"""The gateway's settings, read once from the contract."""

from __future__ import annotations

import pytest

from stratakit.errors import InvalidInputError
from stratakit.gateway.settings import GatewaySettings


def test_settings_come_from_the_contract() -> None:
    settings = GatewaySettings.from_environ(
        {
            "MLFLOW_TRACKING_URI": "http://127.0.0.1:5000",
            "STRATA_GATEWAY_PORT": "8181",
            "STRATA_SERVING_ALIAS": "champion",
            "STRATA_BUCKET": "demo",
            "STRATA_GATEWAY_LOG_FLUSH_SECONDS": "0.5",
        }
    )
    assert (settings.port, settings.alias, settings.bucket) == (8181, "champion", "demo")
    assert settings.log_flush_seconds == 0.5
    assert settings.host == "127.0.0.1"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "MLFLOW_TRACKING_URI is not set"),
        ({"MLFLOW_TRACKING_URI": "x", "STRATA_GATEWAY_PORT": "http"}, "is not a number"),
        ({"MLFLOW_TRACKING_URI": "x", "STRATA_GATEWAY_POLL_SECONDS": "-1"}, "must be positive"),
    ],
)
def test_bad_settings_say_which_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        GatewaySettings.from_environ(environ)
