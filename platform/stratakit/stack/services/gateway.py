"""Serving gateway: every registered model holding the serving alias, on one loopback port.

Runs ``python -m stratakit.gateway`` (Starlette on uvicorn, uvloop and httptools). It
reads models through MLflow and writes its prediction log to the project's bucket, both
through the contract that supervisord passes to every service; ``[tool.strata.serving]``
tunes it through its own ``STRATA_*`` variables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stratakit.stack.services.base import ServiceDefinition, ServiceSpec

if TYPE_CHECKING:
    from stratakit.settings.serving import ServingSettings
    from stratakit.stack.context import StackContext

NAME = "gateway"
#: The port of the protocol's gRPC form (``[tool.strata.serving] grpc = true``), as
#: MLServer and KServe default it; recorded in the stack's state beside the services'.
GRPC_PORT_NAME = "gateway-grpc"
GRPC_DEFAULT_PORT = 8081


def extra_ports(serving: ServingSettings) -> dict[str, int]:
    """The ports the gateway needs besides its own (name → preferred): gRPC's, when on."""
    return {GRPC_PORT_NAME: GRPC_DEFAULT_PORT} if serving.grpc else {}


def build(ctx: StackContext) -> ServiceSpec:
    """One uvicorn process; models are cached under ``.strata/data/gateway``."""
    folder = ctx.project.data_dir / "gateway"
    port = ctx.port(NAME)
    endpoint = ctx.endpoint(NAME)
    from stratakit.stack.context import CONTAINER_PROFILES

    grpc: dict[str, str] = {}
    grpc_port = ctx.state.ports.get(GRPC_PORT_NAME)
    # The containers' gateway does not publish gRPC: their contract must not name it.
    embedded = ctx.state.profile not in CONTAINER_PROFILES
    if ctx.project.settings.serving.grpc and grpc_port is not None and embedded:
        grpc = {"STRATA_GATEWAY_GRPC_PORT": str(grpc_port)}
    return ServiceSpec(
        name=NAME,
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
            **ctx.project.settings.serving.environment(),
            **grpc,
        },
        url=endpoint,
        health_url=f"{endpoint}/v2/health/ready",
        contract={"STRATA_SERVING_URL": endpoint}
        | ({"STRATA_SERVING_GRPC_ADDRESS": f"127.0.0.1:{grpc_port}"} if grpc else {}),
        directories=(folder / "models",),
    )


SERVICE = ServiceDefinition(
    name=NAME, title="model serving gateway", default_port=8080, build=build
)
