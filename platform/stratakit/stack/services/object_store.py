"""Object store: ``rclone serve s3`` over files under ``.strata/data/s3``, SigV4 only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stratakit.contract import S3_COMPAT
from stratakit.stack.services.base import ServiceDefinition, ServiceSpec

if TYPE_CHECKING:
    from stratakit.stack.context import StackContext

NAME = "object-store"


def build(ctx: StackContext) -> ServiceSpec:
    """Serve the project's bucket on loopback with the project's generated key pair."""
    root = ctx.project.data_dir / "s3"
    port = ctx.port(NAME)
    endpoint = ctx.endpoint(NAME)
    return ServiceSpec(
        name=NAME,
        port=port,
        command=(
            ctx.kit_executable("rclone"),
            "serve",
            "s3",
            str(root),
            "--addr",
            f"127.0.0.1:{port}",
            "--config",
            "",
            "--etag-hash",
            "MD5",
            "--vfs-cache-mode",
            "writes",
            "--dir-cache-time",
            "5s",
            "--log-level",
            "NOTICE",
        ),
        # The key pair goes through the environment so it never shows in `ps`; rclone reads
        # list-valued variables as CSV, hence the quotes around the one "key,secret" item.
        environment={"RCLONE_AUTH_KEY": f'"{ctx.state.access_key},{ctx.state.secret_key}"'},
        url=endpoint,
        health_url=f"{endpoint}/",
        contract={
            **S3_COMPAT,
            "AWS_ENDPOINT_URL_S3": endpoint,
            "MLFLOW_S3_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": ctx.state.access_key,
            "AWS_SECRET_ACCESS_KEY": ctx.state.secret_key,
            "STRATA_BUCKET": ctx.state.bucket,
            "STRATA_S3_URI": f"s3://{ctx.state.bucket}",
        },
        directories=(root / ctx.state.bucket,),
    )


SERVICE = ServiceDefinition(name=NAME, title="object store (S3)", default_port=9000, build=build)
