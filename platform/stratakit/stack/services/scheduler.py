"""Scheduler: a Prefect server on SQLite, and one process worker polling the project's pool."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stratakit.stack.services.base import ServiceDefinition, ServiceSpec

if TYPE_CHECKING:
    from stratakit.stack.context import StackContext

NAME = "prefect"
WORKER_NAME = "prefect-worker"
WORK_POOL = "strata"
#: How often the worker asks the server for runs that are due.
WORKER_QUERY_SECONDS = 3


def _prefect_home(ctx: StackContext) -> str:
    return str(ctx.project.data_dir / "prefect")


def build_server(ctx: StackContext) -> ServiceSpec:
    """The API, UI and the background services (schedules, automations, late runs)."""
    home = ctx.project.data_dir / "prefect"
    port = ctx.port(NAME)
    endpoint = ctx.endpoint(NAME)
    return ServiceSpec(
        name=NAME,
        port=port,
        command=(
            ctx.python,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ),
        environment={
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
            "PREFECT_SERVER_API_HOST": "127.0.0.1",
            "PREFECT_SERVER_API_PORT": str(port),
            "PREFECT_UI_API_URL": f"{endpoint}/api",
            "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
            # Prometheus metrics on /api/metrics.
            "PREFECT_SERVER_METRICS_ENABLED": "true",
        },
        url=endpoint,
        health_url=f"{endpoint}/api/health",
        contract={
            "PREFECT_API_URL": f"{endpoint}/api",
            "PREFECT_DEFAULT_WORK_POOL_NAME": WORK_POOL,
        },
        directories=(home,),
        sqlite_files=(home / "prefect.db",),
    )


def build_worker(ctx: StackContext) -> ServiceSpec:
    """A process worker; its health-check web server answers on its own loopback port."""
    port = ctx.port(WORKER_NAME)
    endpoint = ctx.endpoint(WORKER_NAME)
    return ServiceSpec(
        name=WORKER_NAME,
        port=port,
        # Imports Prefect's worker while the server starts, then waits for the server.
        command=(
            ctx.python,
            "-m",
            "stratakit.stack.prefect_worker",
            f"{ctx.endpoint(NAME)}/api/health",
            "worker",
            "start",
            "--pool",
            WORK_POOL,
            "--type",
            "process",
            "--name",
            f"{ctx.project.slug}-worker",
            "--with-healthcheck",
        ),
        environment={
            "PREFECT_HOME": _prefect_home(ctx),
            "PREFECT_WORKER_WEBSERVER_HOST": "127.0.0.1",
            "PREFECT_WORKER_WEBSERVER_PORT": str(port),
            # Prefect's default (10 s) adds up to 10 s before every queued run starts; a
            # local stack polls its own SQLite server, so a short interval costs nothing.
            "PREFECT_WORKER_QUERY_SECONDS": str(WORKER_QUERY_SECONDS),
        },
        url=endpoint,
        health_url=f"{endpoint}/health",
    )


SERVER = ServiceDefinition(
    name=NAME, title="scheduler (Prefect server)", default_port=4200, build=build_server
)
# The worker's port only answers health checks: nobody opens it, so nothing forwards it.
WORKER = ServiceDefinition(
    name=WORKER_NAME,
    title=f"scheduler worker (pool '{WORK_POOL}')",
    default_port=4201,
    build=build_worker,
    forwarded=False,
)
