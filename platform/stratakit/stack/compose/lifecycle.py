"""Bringing a project's compose stack up and down, and reporting on its containers.

Same results as the embedded profile's :mod:`stratakit.stack.lifecycle`: a list of
:class:`ServiceStatus` rows, the contract in ``.env``, a :class:`StackStartError` with the
failing container's log tail. Names, ports and health paths come from the service
registry; the containers' side is ``infra/compose/compose.yaml``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass

from stratakit.contract import render
from stratakit.errors import ContainerEngineError, StackStartError, UnknownServiceError
from stratakit.project import Project
from stratakit.stack.compose.engine import Compose, docker_json, image_exists, require_engine
from stratakit.stack.compose.environment import (
    EXTRA_PORTS,
    PORT_VARIABLES,
    compose_env_file,
    compose_project_name,
    images,
    infra_dir,
    write_compose_env,
)
from stratakit.stack.compose.images import StepCallback, build_images
from stratakit.stack.context import StackContext, contract_for, load_context, prepare_context
from stratakit.stack.files import write_atomic
from stratakit.stack.lifecycle import (
    ProgressCallback,
    ServiceStatus,
    ensure_gitignored,
    start_choosing_ports_again,
)
from stratakit.stack.ports import is_port_free, ports_claimed
from stratakit.stack.services import CONTAINER_SERVICES

START_TIMEOUT_SECONDS = 300
LOG_TAIL_LINES = 25
#: The compose profile's services beyond the embedded ones: (title, URL scheme or "").
BACKING_SERVICES = {
    "postgres": ("database (Postgres: MLflow, Prefect)", ""),
    "redis": ("online feature store (Redis)", "redis"),
    "prometheus": ("metrics and alerts (Prometheus)", "http"),
}


@dataclass(frozen=True)
class Container:
    """One service's container as ``compose ps`` reports it."""

    service: str
    id: str
    state: str
    health: str
    exit_code: int = 0

    @property
    def status(self) -> str:
        """healthy, starting, unhealthy, failed (exited) or stopped: the embedded words."""
        if self.state == "running":
            return {"healthy": "healthy", "unhealthy": "unhealthy", "": "healthy"}.get(
                self.health, "starting"
            )
        if self.state in {"exited", "dead"}:
            return "failed"
        return "starting" if self.state in {"created", "restarting"} else "stopped"


def compose_for(ctx: StackContext) -> Compose:
    """The project's compose stack."""
    return Compose(
        infra_dir() / "compose" / "compose.yaml",
        compose_project_name(ctx),
        compose_env_file(ctx.project),
    )


def _containers(compose: Compose) -> dict[str, Container]:
    done = compose.run("ps", "--all", "--format", "json", check=False)
    if done.returncode != 0:
        return {}
    rows: list[dict[str, str]] = []
    for line in done.stdout.splitlines():  # one JSON object per line (a list in older v2)
        line = line.strip()
        if line:
            parsed = json.loads(line)
            rows.extend(parsed if isinstance(parsed, list) else [parsed])
    return {
        row["Service"]: Container(
            row["Service"],
            row.get("ID", ""),
            row.get("State", ""),
            row.get("Health", ""),
            int(row.get("ExitCode", 0) or 0),
        )
        for row in rows
    }


def _memory(ids: list[str]) -> dict[str, int]:
    """Resident memory of each running container (by ID prefix), from ``docker stats``."""
    if not ids:
        return {}
    units = {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "kB": 1000, "MB": 1000**2}
    found: dict[str, int] = {}
    out = docker_json("stats", "--no-stream", "--format", "{{.ID}} {{.MemUsage}}", *ids)
    for line in out.splitlines():
        container, usage, *_ = line.split()
        number = usage.rstrip("BKMGiak")
        unit = usage[len(number) :]
        with suppress(ValueError):
            found[container[:12]] = int(float(number) * units.get(unit, 1))
    return found


def _rows(ctx: StackContext, containers: dict[str, Container]) -> Iterator[ServiceStatus]:
    running = [c.id for c in containers.values() if c.state == "running" and c.id]
    memory = _memory(running)
    for name, definition in CONTAINER_SERVICES.items():
        # A service people do not open (the worker's health port) is not published.
        url = definition.spec(ctx).url if definition.forwarded else ""
        port = ctx.port(name) if definition.forwarded else 0
        yield _row(name, definition.title, url, port, definition.forwarded,
                   containers.get(name), memory)  # fmt: skip
    for name, (title, scheme) in BACKING_SERVICES.items():
        port = ctx.state.ports.get(name, 0) if scheme else 0
        url = f"{scheme}://127.0.0.1:{port}" if scheme else ""
        yield _row(name, title, url, port, False, containers.get(name), memory)


def _row(
    name: str,
    title: str,
    url: str,
    port: int,
    forwarded: bool,
    container: Container | None,
    memory: dict[str, int],
) -> ServiceStatus:
    return ServiceStatus(
        name=name,
        title=title,
        url=url,
        port=port,
        forwarded=forwarded,
        status=container.status if container else "stopped",
        pid=None,
        rss_bytes=memory.get(container.id[:12], 0) if container else 0,
    )


def compose_status(project: Project) -> list[ServiceStatus]:
    """Every service's container state, health and memory."""
    require_engine()
    ctx = load_context(project)
    return list(_rows(ctx, _containers(compose_for(ctx))))


def _ensure_images(project: Project, on_step: StepCallback | None) -> None:
    """Make sure the engine has every image the stack runs.

    The kit's own must have been built; the others (Prometheus's upstream image, or what
    the project names) are pulled when missing.
    """
    missing = [ref for ref in images(project).values() if not image_exists(ref)]
    unbuilt = [ref for ref in missing if ref.startswith("stratakit/")]
    if unbuilt:
        raise ContainerEngineError(
            f"Image(s) not found: {', '.join(unbuilt)}; build them with "
            "`strata stack up --profile compose --build`."
        )
    for reference in missing:
        if on_step:
            on_step(f"pulling {reference}")
        try:
            done = subprocess.run(["docker", "pull", "--quiet", reference], capture_output=True,
                                  text=True, timeout=1800, check=False)  # fmt: skip
        except subprocess.TimeoutExpired:
            done = subprocess.CompletedProcess([], 1, "", "no answer in 30 min")
        if done.returncode != 0:
            reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ContainerEngineError(
                f"Image {reference} is not on this engine and could not be pulled "
                f"({reason[0]}); pull or `docker load` it, or name another in "
                "[tool.strata.stack.images] in pyproject.toml."
            )


def start_compose_stack(
    project: Project,
    on_progress: ProgressCallback | None = None,
    build: bool = False,
    on_build_step: StepCallback | None = None,
) -> list[ServiceStatus]:
    """Start (or complete) the compose stack and wait until every container is healthy.

    Writes ``.strata/compose.env`` and the contract to ``.env`` first; ``build`` builds the
    images from the kit's checkout before. On failure the containers are stopped again
    (volumes kept) and the error carries the failing container's log tail.
    """
    require_engine()
    ensure_gitignored(project.root, ".env")
    ensure_gitignored(project.root, ".strata/")
    if build:  # before the ports are claimed: a build takes minutes
        ctx = prepare_context(project, _running_ports(project), EXTRA_PORTS, profile="compose")
        write_compose_env(ctx)
        build_images(compose_for(ctx), on_build_step)
    _ensure_images(project, on_build_step)

    def launch() -> tuple[StackContext, Compose]:
        ctx = prepare_context(project, _running_ports(project), EXTRA_PORTS, profile="compose")
        write_compose_env(ctx)
        write_atomic(project.env_file, render(contract_for(ctx), "dotenv"))
        return ctx, compose_for(ctx)

    def wait(launched: tuple[StackContext, Compose]) -> list[ServiceStatus]:
        ctx, compose = launched
        _up_with_progress(compose, on_progress)
        return list(_rows(ctx, _containers(compose)))

    with ports_claimed():
        return start_choosing_ports_again(
            launch,
            wait,
            lambda: stop_compose_stack(project),
            lambda launched: _published_ports_taken(launched[0]),
            on_progress,
        )


def _published_ports_taken(ctx: StackContext) -> dict[str, int]:
    """The published ports another program holds (asked once the containers are gone)."""
    return {name: ctx.port(name) for name in PORT_VARIABLES if not is_port_free(ctx.port(name))}


def _running_ports(project: Project) -> frozenset[int]:
    """The ports the project's own running containers hold (kept on a second ``up``)."""
    try:
        ctx = load_context(project)
    except Exception:  # never set up, or set up by a damaged state: nothing of ours runs
        return frozenset()
    if ctx.state.profile != "compose" or not compose_env_file(project).exists():
        return frozenset()
    containers = _containers(compose_for(ctx))
    if not any(c.state == "running" for c in containers.values()):
        return frozenset()
    return frozenset(ctx.state.ports.values())


def _up_with_progress(compose: Compose, on_progress: ProgressCallback | None) -> None:
    args = compose.args("up", "--detach", "--wait", "--wait-timeout", str(START_TIMEOUT_SECONDS))
    reported: dict[str, str] = {}
    # Output to a file, not a pipe nobody reads while compose runs (a full pipe would block it).
    with tempfile.TemporaryFile("w+") as captured:
        process = subprocess.Popen(args, stdout=captured, stderr=subprocess.STDOUT, text=True)
        while process.poll() is None:
            for name, container in _containers(compose).items():
                if on_progress and reported.get(name) != container.status:
                    on_progress(name, container.status)
                    reported[name] = container.status
            time.sleep(1)
        captured.seek(0)
        output = captured.read()
    if process.returncode != 0:
        failing = _first_unhealthy(_containers(compose))
        service = failing.service if failing else "stack"
        log = compose.run("logs", "--no-color", "--tail", str(LOG_TAIL_LINES), service,
                          check=False).stdout if failing else output  # fmt: skip
        raise StackStartError(
            f"Service '{service}' did not become healthy in the compose stack; "
            f"see `strata stack logs {service}`. Fix the cause shown below, then run "
            "`strata stack up` again.",
            service=service,
            log_tail="\n".join(log.splitlines()[-LOG_TAIL_LINES:]),
        )


def _first_unhealthy(containers: dict[str, Container]) -> Container | None:
    for container in containers.values():
        if container.state == "exited" and container.exit_code == 0:
            continue  # a one-shot job (the bucket) that did its work
        if container.status != "healthy":
            return container
    return None


def stop_compose_stack(project: Project) -> bool:
    """Remove the containers and the network; volumes (data) are kept."""
    require_engine()
    ctx = load_context(project)
    compose = compose_for(ctx)
    was_running = any(c.state == "running" for c in _containers(compose).values())
    compose.run("down", "--remove-orphans", "--timeout", "20")
    return was_running


def purge_compose_stack(project: Project) -> None:
    """Remove containers, network and volumes, then the project's stack state."""
    require_engine()
    ctx = load_context(project)
    compose_for(ctx).run("down", "--remove-orphans", "--volumes", "--timeout", "20")
    if project.state_dir.exists():
        shutil.rmtree(project.state_dir)
    project.env_file.unlink(missing_ok=True)


def known_service(name: str) -> str:
    """``name`` if the compose stack has such a service; else the error lists them."""
    valid = [*CONTAINER_SERVICES, *BACKING_SERVICES, "create-bucket"]
    if name not in valid:
        raise UnknownServiceError(f"No service named '{name}'. Valid names: {', '.join(valid)}.")
    return name


def compose_logs(project: Project, service: str | None, lines: int, follow: bool) -> None:
    """Print containers' logs (of one service, or all) to this process's output."""
    ctx = load_context(project)
    args = ["logs", "--no-color", "--tail", str(lines)]
    if follow:
        args.append("--follow")
    subprocess.run(compose_for(ctx).args(*args, *([service] if service else [])), check=False)


__all__ = [
    "BACKING_SERVICES",
    "compose_logs",
    "compose_status",
    "known_service",
    "purge_compose_stack",
    "start_compose_stack",
    "stop_compose_stack",
]
