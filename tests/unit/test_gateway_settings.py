"""The gateway's settings: from the contract, and from ``[tool.strata.serving]``."""

from __future__ import annotations

import pytest

from stratakit.errors import InvalidInputError
from stratakit.gateway.settings import GatewaySettings
from stratakit.project import Project
from stratakit.services.gateway import build, serving_settings
from stratakit.stack_context import contract_for, prepare_context


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


def test_serving_table_configures_the_service(project: Project) -> None:
    assert serving_settings({}) == {"STRATA_SERVING_ALIAS": "production"}
    assert serving_settings({"serving": {"alias": "champion", "poll_seconds": 0.5}}) == {
        "STRATA_SERVING_ALIAS": "champion",
        "STRATA_GATEWAY_POLL_SECONDS": "0.5",
    }
    for table, message in (
        ({"alais": "x"}, "unknown key 'alais'"),
        ({"poll_seconds": "fast"}, "must be a positive number"),
        ({"alias": "two words"}, "must be an alias name"),
    ):
        with pytest.raises(InvalidInputError, match=message):
            serving_settings({"serving": table})
    ctx = prepare_context(project)
    spec = build(ctx)
    assert spec.environment["STRATA_GATEWAY_HOST"] == "127.0.0.1"
    assert spec.health_url.endswith("/v2/health/live")
    assert contract_for(ctx)["STRATA_SERVING_URL"] == f"http://127.0.0.1:{ctx.port('gateway')}"
