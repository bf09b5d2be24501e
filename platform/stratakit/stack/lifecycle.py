"""Bringing a project's stack up and down, and reporting on it.

Functions here start processes and write files; what they compute comes from
:mod:`stratakit.stack.services` (what to run) and :mod:`stratakit.stack.supervisor` (how
to run it).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import psutil

from stratakit.contract import child_environment, render
from stratakit.errors import StackStartError
from stratakit.project import Project
from stratakit.stack.context import StackContext, contract_for, load_context, prepare_context
from stratakit.stack.files import tail, write_atomic
from stratakit.stack.health import HealthProbe
from stratakit.stack.ports import is_port_free, ports_claimed
from stratakit.stack.processes import find_marked, terminate, tree_rss
from stratakit.stack.services import SERVICES, ServiceSpec, build_specs, gateway, get_service
from stratakit.stack.state import load_state
from stratakit.stack.supervisor import (
    ProcessInfo,
    SupervisorClient,
    config_path,
    pid_path,
    render_config,
    socket_path,
    start_supervisord,
)

START_TIMEOUT_SECONDS = 180.0
LOG_TAIL_LINES = 25

#: Called with (service name, short status) while ``up`` waits.
ProgressCallback = Callable[[str, str], None]
#: What a profile's launch hands to its wait: the context, or more.
Launched = TypeVar("Launched")


@dataclass(frozen=True)
class ServiceStatus:
    """One row of the status table."""

    name: str
    title: str
    url: str
    port: int
    forwarded: bool
    status: str
    pid: int | None
    rss_bytes: int

    @property
    def healthy(self) -> bool:
        """Whether the service answered its health check."""
        return self.status == "healthy"


def _stop_leftover_processes(project: Project) -> None:
    """Stop any process left over from this project's stack (after a crash of supervisord)."""
    try:
        state = load_state(project.state_file)
    except Exception:  # a damaged state file is reported by whoever needs it
        return
    if state is not None:
        terminate(find_marked(state.project_id))


def ensure_gitignored(root: Path, entry: str) -> None:
    """Add ``entry`` to the project's ``.gitignore`` unless it is there already."""
    gitignore = root / ".gitignore"
    existing = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    if entry in {line.strip() for line in existing.splitlines()}:
        return
    prefix = "" if not existing or existing.endswith("\n") else "\n"
    write_atomic(gitignore, f"{existing}{prefix}{entry}\n", 0o644)


def write_env_file(ctx: StackContext) -> Path:
    """Write the contract to the project's ``.env`` (0600, git-ignored)."""
    ensure_gitignored(ctx.project.root, ".env")
    ensure_gitignored(ctx.project.root, ".strata/")
    write_atomic(ctx.project.env_file, render(contract_for(ctx), "dotenv"))
    return ctx.project.env_file


def _status_of(
    spec: ServiceSpec, info: ProcessInfo | None, probe: HealthProbe, *, measure: bool = True
) -> ServiceStatus:
    pid = info.pid if info and info.pid else None
    if info is None or info.state in {"STOPPED", "EXITED"}:
        status = "stopped"
    elif info.state == "FATAL":
        status = "failed"
    elif info.state == "RUNNING" and probe(spec.health_url):
        status = "healthy"
    elif info.state == "RUNNING":
        status = "starting"
    else:
        status = info.state.lower()
    return ServiceStatus(
        name=spec.name,
        title=spec.title,
        url=spec.url,
        port=spec.port,
        forwarded=spec.forwarded,
        status=status,
        pid=pid,
        rss_bytes=tree_rss(pid) if pid and measure else 0,
    )


def stack_status(project: Project) -> list[ServiceStatus]:
    """Every service's state, pid, memory and health (all 'stopped' when the stack is down)."""
    ctx = load_context(project)
    client = SupervisorClient(project)
    infos = client.processes() if client.is_running() else {}
    with HealthProbe() as probe:
        return [_status_of(spec, infos.get(spec.name), probe) for spec in build_specs(ctx)]


def start_stack(
    project: Project, on_progress: ProgressCallback | None = None
) -> list[ServiceStatus]:
    """Start (or complete) the stack and wait until every service is healthy.

    Calling it on a running stack is harmless. On failure every service is stopped again
    and :class:`StackStartError` carries the failing service's log tail.
    """
    client = SupervisorClient(project)

    def waiting() -> None:
        if on_progress is not None:
            for service in SERVICES:
                on_progress(service, "waiting: another stack is binding its ports")

    with ports_claimed(waiting):
        return start_choosing_ports_again(
            lambda: _launch(project, client),
            lambda ctx: _wait_until_healthy(ctx, client, on_progress),
            lambda: stop_stack(project),
            _ports_taken_meanwhile,
            on_progress,
        )


def start_choosing_ports_again(
    launch: Callable[[], Launched],
    wait: Callable[[Launched], list[ServiceStatus]],
    stop: Callable[[], object],
    taken: Callable[[Launched], Mapping[str, int]],
    on_progress: ProgressCallback | None,
) -> list[ServiceStatus]:
    """Start a stack of either profile, once more if a port was taken from under it.

    ``launch`` chooses the ports and starts the services; if ``wait`` for them fails, the
    stack is stopped, and when another program now holds one of its ports (``taken``,
    asked once it is stopped) it is launched a second time. That program bound the port
    between the choice and the service's start (a container restarting, say, or a service
    stopped while its port stayed recorded); the second launch chooses again, because a
    recorded port is kept only while it is free.
    """
    launched = launch()
    try:
        return _stopped_on_failure(wait, launched, stop)
    except StackStartError:
        held = taken(launched)
        if not held:
            raise
    if on_progress is not None:
        for service, port in held.items():
            on_progress(service, f"port {port} was taken meanwhile; choosing another")
    return _stopped_on_failure(wait, launch(), stop)


def _stopped_on_failure(
    wait: Callable[[Launched], list[ServiceStatus]], launched: Launched, stop: Callable[[], object]
) -> list[ServiceStatus]:
    try:
        return wait(launched)
    except BaseException:
        stop()
        raise


def _launch(project: Project, client: SupervisorClient) -> StackContext:
    """Start supervisord with every service, or the services of the running one."""
    state = load_state(project.state_file)
    extra = gateway.extra_ports(project.settings.serving)
    complete = state is not None and set(SERVICES) | set(extra) <= set(state.ports)
    if client.is_running() and complete:
        ctx = load_context(project)
        client.start_all()
        return ctx
    if client.is_running():  # set up by an earlier kit: again, with every service
        stop_stack(project)
    _stop_leftover_processes(project)
    ctx = prepare_context(project, extra_ports=extra)
    specs = build_specs(ctx)
    write_atomic(config_path(project), render_config(project, specs, ctx.python))
    write_env_file(ctx)
    start_supervisord(project, ctx.python, child_environment(contract_for(ctx)))
    return ctx


def _ports_taken_meanwhile(ctx: StackContext) -> dict[str, int]:
    """The services' ports that another program holds (asked once the stack is stopped)."""
    return {spec.name: spec.port for spec in build_specs(ctx) if not is_port_free(spec.port)}


def _wait_until_healthy(
    ctx: StackContext, client: SupervisorClient, on_progress: ProgressCallback | None
) -> list[ServiceStatus]:
    specs = build_specs(ctx)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    reported: dict[str, str] = {}
    with HealthProbe() as probe:
        while True:
            infos = client.processes()
            statuses = [_status_of(s, infos.get(s.name), probe, measure=False) for s in specs]
            for status in statuses:
                if on_progress and reported.get(status.name) != status.status:
                    on_progress(status.name, status.status)
                    reported[status.name] = status.status
                if status.status == "failed":
                    _raise_start_failure(ctx.project, status.name, infos.get(status.name))
            if all(status.healthy for status in statuses):
                return [_status_of(s, infos.get(s.name), probe) for s in specs]
            if time.monotonic() > deadline:
                slow = next(s for s in statuses if not s.healthy)
                _raise_start_failure(ctx.project, slow.name, infos.get(slow.name), timed_out=True)
            time.sleep(0.25)


def _raise_start_failure(
    project: Project, service: str, info: ProcessInfo | None, timed_out: bool = False
) -> None:
    log = project.logs_dir / f"{service}.log"
    why = "did not become healthy in time" if timed_out else "could not start"
    state = f" ({info.description})" if info and info.description else ""
    raise StackStartError(
        f"Service '{service}' {why}{state}; its log is {log}. "
        "Fix the cause shown below, then run `strata stack up` again.",
        service=service,
        log_tail=tail(log, LOG_TAIL_LINES),
    )


def stop_stack(project: Project, timeout: float = 30.0) -> bool:
    """Stop every service and supervisord; returns whether anything was running.

    Data is kept; only :func:`purge_stack` deletes it.
    """
    client = SupervisorClient(project)
    was_running = client.is_running()
    if was_running:
        daemon: psutil.Process | None
        try:
            daemon = psutil.Process(client.daemon_pid())
        except (psutil.Error, OSError):
            daemon = None
        client.shutdown()
        if daemon is not None:
            try:
                daemon.wait(timeout=timeout)
            except psutil.TimeoutExpired:
                daemon.kill()
    _stop_leftover_processes(project)
    socket_path(project).unlink(missing_ok=True)
    pid_path(project).unlink(missing_ok=True)
    return was_running


def purge_stack(project: Project) -> None:
    """Stop the stack and delete all of its state (data, databases, logs, credentials)."""
    stop_stack(project)
    if project.state_dir.exists():
        shutil.rmtree(project.state_dir)
    project.env_file.unlink(missing_ok=True)


def log_file(project: Project, service: str) -> Path:
    """The current log file of ``service`` (validated against the registry)."""
    return project.logs_dir / f"{get_service(service).name}.log"
