"""Serving gateway: every registered model holding the serving alias, on one loopback port.

Runs ``python -m stratakit.gateway`` (Starlette on uvicorn, uvloop and httptools). It
reads models through MLflow and writes its prediction log to the project's bucket, both
through the contract that supervisord passes to every service.
"""

from __future__ import annotations

from typing import Any

from stratakit.errors import InvalidInputError
from stratakit.gateway.settings import DEFAULT_ALIAS
from stratakit.services.base import ServiceDefinition, ServiceSpec, StackContext

NAME = "gateway"

#: ``[tool.strata.serving]`` keys → the gateway's environment variables.
_SETTINGS = {
    "alias": "STRATA_SERVING_ALIAS",
    "poll_seconds": "STRATA_GATEWAY_POLL_SECONDS",
    "log_flush_seconds": "STRATA_GATEWAY_LOG_FLUSH_SECONDS",
    "max_body_bytes": "STRATA_GATEWAY_MAX_BODY_BYTES",
}


def serving_settings(settings: dict[str, Any]) -> dict[str, str]:
    """The gateway's variables from ``[tool.strata.serving]``; unknown keys are an error."""
    table = settings.get("serving", {})
    if not isinstance(table, dict):
        raise InvalidInputError("pyproject.toml [tool.strata.serving] must be a table.")
    unknown = sorted(set(table) - set(_SETTINGS))
    if unknown:
        raise InvalidInputError(
            f"pyproject.toml [tool.strata.serving] has unknown key '{unknown[0]}'; "
            f"valid keys: {', '.join(_SETTINGS)}."
        )
    values = {"alias": DEFAULT_ALIAS, **table}
    for key, value in values.items():
        if key != "alias" and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0
        ):
            raise InvalidInputError(
                f"pyproject.toml [tool.strata.serving].{key} = {value!r} must be a positive number."
            )
        if key == "alias" and (
            not isinstance(value, str) or not value.replace("-", "").replace("_", "").isalnum()
        ):
            raise InvalidInputError(
                f"pyproject.toml [tool.strata.serving].alias = {value!r} must be an alias name "
                "(letters, digits, '-' and '_')."
            )
    return {_SETTINGS[key]: str(value) for key, value in values.items()}


def build(ctx: StackContext) -> ServiceSpec:
    """One uvicorn process; models are cached under ``.strata/data/gateway``."""
    folder = ctx.project.data_dir / "gateway"
    port = ctx.port(NAME)
    endpoint = ctx.endpoint(NAME)
    return ServiceSpec(
        name=NAME,
        title="model serving gateway",
        port=port,
        command=(ctx.python, "-m", "stratakit.gateway"),
        environment={
            "STRATA_GATEWAY_HOST": "127.0.0.1",
            "STRATA_GATEWAY_PORT": str(port),
            "STRATA_GATEWAY_MODEL_DIR": str(folder / "models"),
            "PROMETHEUS_DISABLE_CREATED_SERIES": "True",
            # A failed download is retried at a later poll, not inside MLflow for minutes.
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
            "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
            "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
            **serving_settings(ctx.project.settings),
        },
        url=endpoint,
        health_url=f"{endpoint}/v2/health/live",
        contract={"STRATA_SERVING_URL": endpoint},
        directories=(folder / "models",),
    )


SERVICE = ServiceDefinition(
    name=NAME, title="model serving gateway", default_port=8080, build=build
)
