"""Tracking and model registry: a lean MLflow server (one process, one worker, no job runner).

Runs on SQLite under ``.strata/data/mlflow`` and proxies artifacts to the project's bucket,
so clients need only ``MLFLOW_TRACKING_URI``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stratakit.stack.services.base import ServiceDefinition, ServiceSpec

if TYPE_CHECKING:
    from stratakit.stack.context import StackContext

NAME = "mlflow"


def build(ctx: StackContext) -> ServiceSpec:
    """One uvicorn worker; artifacts under ``s3://BUCKET/mlflow``."""
    folder = ctx.project.data_dir / "mlflow"
    port = ctx.port(NAME)
    endpoint = ctx.endpoint(NAME)
    return ServiceSpec(
        name=NAME,
        port=port,
        command=(
            ctx.python,
            "-m",
            "stratakit.stack.mlflow_server",  # `mlflow server`, in one process
            "--backend-store-uri",
            f"sqlite:///{folder / 'mlflow.db'}",
            "--serve-artifacts",
            "--artifacts-destination",
            f"s3://{ctx.state.bucket}/mlflow",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            # Prometheus metrics on /metrics (requests by endpoint and status, latency).
            "--expose-prometheus",
            str(folder / "metrics"),
        ),
        environment={"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
        url=endpoint,
        health_url=f"{endpoint}/health",
        contract={
            "MLFLOW_TRACKING_URI": endpoint,
            # Clients move big artifacts straight to and from the store with presigned URLs
            # (the store is on loopback too). The compose profile turns these off.
            "MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD": "true",
            "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD": "true",
        },
        directories=(folder,),
        sqlite_files=(folder / "mlflow.db",),
    )


SERVICE = ServiceDefinition(
    name=NAME, title="tracking + model registry (MLflow)", default_port=5000, build=build
)
