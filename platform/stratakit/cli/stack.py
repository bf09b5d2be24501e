"""``strata stack``: start, stop, inspect and purge the project's local platform stack."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.live import Live
from rich.table import Table

from stratakit.cli._output import (
    STATUS_STYLE,
    ProjectDir,
    check_format,
    console,
    err_console,
    human_bytes,
    print_json,
    styled,
)
from stratakit.contract import FORMATS, ContractFormat, render
from stratakit.errors import InvalidInputError
from stratakit.project import find_project
from stratakit.stack.services import SERVICES, get_service

if TYPE_CHECKING:
    from stratakit.monitor.status import GatewaySummary
    from stratakit.project import Project
    from stratakit.stack.lifecycle import ServiceStatus

stack_app = typer.Typer(help="Run the project's local platform stack.", no_args_is_help=True)


def status_table(statuses: list[ServiceStatus], title: str) -> Table:
    """A readable table of the stack's services."""
    table = Table(title=title, title_justify="left")
    for column in ("service", "URL", "status", "pid", "memory"):
        table.add_column(column, justify="right" if column in {"pid", "memory"} else "left")
    for row in statuses:
        table.add_row(
            row.name,
            row.url,
            styled(row.status, STATUS_STYLE.get(row.status, "yellow")),
            str(row.pid or "-"),
            human_bytes(row.rss_bytes),
        )
    total = sum(row.rss_bytes for row in statuses)
    table.caption = f"total memory: {human_bytes(total)}"
    return table


def _progress_table(progress: dict[str, str], started: float) -> Table:
    table = Table(
        title=f"starting the stack… {time.monotonic() - started:4.1f} s", title_justify="left"
    )
    table.add_column("service")
    table.add_column("status")
    for name, status in progress.items():
        table.add_row(name, styled(status, STATUS_STYLE.get(status, "yellow")))
    return table


@stack_app.command("up")
def stack_up(
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            "-p",
            help="embedded (local processes) or compose (containers); default: "
            "[tool.strata.stack] profile, else embedded.",
        ),
    ] = None,
    build: Annotated[
        bool,
        typer.Option(
            "--build", help="compose: build the images from the kit's checkout first (offline)."
        ),
    ] = False,
    project_dir: ProjectDir = None,
) -> None:
    """Start every service and wait until each answers its health check."""
    from stratakit.stack.profiles import choose_profile, start

    project = find_project(project_dir)
    chosen = choose_profile(project, profile)
    progress = {name: "waiting" for name in SERVICES}
    started = time.monotonic()

    def building(step: str) -> None:
        console.print(f"[dim]{time.monotonic() - started:5.1f} s[/dim]  {step}…")

    with Live(_progress_table(progress, started), console=console, transient=True) as live:

        def update(name: str, status: str) -> None:
            progress[name] = status
            live.update(_progress_table(progress, started))

        statuses = start(project, chosen, update, build=build, on_build_step=building)
    elapsed = time.monotonic() - started
    title = f"{project.name}: stack up ({chosen}) in {elapsed:.1f} s"
    console.print(status_table(statuses, title))
    console.print(f"Environment contract written to {project.env_file} (`strata stack env`).")


@stack_app.command("down")
def stack_down(project_dir: ProjectDir = None) -> None:
    """Stop every service; data, runs and models are kept."""
    from stratakit.stack.profiles import stop

    project = find_project(project_dir)
    if stop(project):
        console.print(f"{project.name}: stack stopped; state kept in {project.state_dir}.")
    else:
        console.print(f"{project.name}: the stack was not running.")


@stack_app.command("status")
def stack_status_command(
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table (default) or json, for scripts.")
    ] = "table",
    project_dir: ProjectDir = None,
) -> None:
    """Show each service's URL, port, status, pid and memory (exit 3 unless all healthy)."""
    from stratakit.stack.profiles import active_profile, stack_status

    check_format(fmt)
    project = find_project(project_dir)
    statuses = stack_status(project)
    traffic = _gateway_traffic(project, statuses)
    if fmt == "json":
        rows = [dataclasses.asdict(row) | {"healthy": row.healthy} for row in statuses]
        gateway = None
        if traffic is not None:
            gateway = dataclasses.asdict(traffic) | {"error_rate": traffic.error_rate}
        print_json({"project": project.name, "profile": active_profile(project),
                    "services": rows, "gateway_traffic": gateway})  # fmt: skip
    else:
        title = f"{project.name}: stack status ({active_profile(project)})"
        console.print(status_table(statuses, title))
        if traffic is not None and traffic.requests:
            rate = traffic.requests_per_second or 0.0
            console.print(
                f"gateway: {traffic.requests} requests ({rate:.1f}/s on average), "
                f"{traffic.error_rate or 0:.1%} errors; per model: `strata monitor status`"
            )
    if not all(row.healthy for row in statuses):
        raise typer.Exit(3)


def _gateway_traffic(project: Project, statuses: list[ServiceStatus]) -> GatewaySummary | None:
    """The healthy gateway's request and error counts, from its metrics."""
    from stratakit.monitor.status import gateway_summary
    from stratakit.stack.context import project_contract

    if not any(row.name == "gateway" and row.healthy for row in statuses):
        return None
    url = project_contract(project).get("STRATA_SERVING_URL")
    return gateway_summary(url) if url else None


@stack_app.command("logs")
def stack_logs(
    service: Annotated[
        str | None, typer.Argument(help=f"One of: {', '.join(SERVICES)} (default: all).")
    ] = None,
    lines: Annotated[int, typer.Option("--lines", "-n", min=1, help="Lines to show.")] = 40,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines.")
    ] = False,
    project_dir: ProjectDir = None,
) -> None:
    """Show the last lines of a service's log (or of every service's)."""
    from stratakit.stack.files import tail
    from stratakit.stack.lifecycle import log_file
    from stratakit.stack.profiles import active_profile

    project = find_project(project_dir)
    if active_profile(project) == "compose":
        from stratakit.stack.compose.lifecycle import compose_logs, known_service

        compose_logs(project, known_service(service) if service else None, lines, follow)
        return
    names = [get_service(service).name] if service else list(SERVICES)
    if follow and len(names) != 1:
        raise InvalidInputError("--follow needs one SERVICE, e.g. `strata stack logs mlflow -f`.")
    for name in names:
        path = log_file(project, name)
        if len(names) > 1:
            console.rule(f"{name} ({path})")
        text = tail(path, lines)
        # soft_wrap: a log line stays one line (a pipe or grep must see it whole).
        console.print(
            text if text else "(no log yet)", markup=False, highlight=False, soft_wrap=True
        )
    if follow:
        _follow(log_file(project, names[0]))


def _follow(path: Path) -> None:
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        handle.seek(0, 2)
        while True:
            line = handle.readline()
            if line:
                console.print(line.rstrip("\n"), markup=False, highlight=False)
            else:
                time.sleep(0.3)


@stack_app.command("env")
def stack_env(
    fmt: Annotated[
        str, typer.Option("--format", "-f", help=f"One of: {', '.join(FORMATS)}.")
    ] = "shell",
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            "-p",
            help="k8s: the contract for the cluster through `kubectl port-forward` (printed "
            "on stderr); default: the running stack's.",
        ),
    ] = None,
    project_dir: ProjectDir = None,
) -> None:
    """Print the environment contract (`eval "$(strata stack env)"`)."""
    contract_format = cast("ContractFormat", check_format(fmt, FORMATS))
    project = find_project(project_dir)
    if profile is None:
        from stratakit.stack.context import project_contract

        sys.stdout.write(render(project_contract(project), contract_format))
        return
    if profile != "k8s":
        raise InvalidInputError(
            f"--profile {profile!r}: only k8s has a contract of its own here; without "
            "--profile the running stack's is printed."
        )
    from stratakit.stack.k8s.environment import k8s_contract, port_forward_commands

    sys.stdout.write(render(k8s_contract(project), contract_format))
    err_console.print("[dim]# reach the cluster's services first:[/dim]")
    for command in port_forward_commands():
        err_console.print(f"[dim]{command} &[/dim]", markup=True, highlight=False)


@stack_app.command("render")
def stack_render(
    target: Annotated[str, typer.Argument(help="What to render: k8s (infra/k8s, kustomize).")],
    overlay: Annotated[
        str, typer.Option("--overlay", "-o", help="local (kind, k3d, minikube) or production.")
    ] = "local",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", help="Write DIR/<overlay>.yaml (0600) instead of printing.", file_okay=False
        ),
    ] = None,
    project_dir: ProjectDir = None,
) -> None:
    """Render the platform's manifests with the project's bucket, images and credentials."""
    from stratakit.stack.files import write_atomic
    from stratakit.stack.k8s.manifests import check_overlay, render_project

    if target != "k8s":
        raise InvalidInputError(f"Cannot render {target!r}; the one target is k8s.")
    project = find_project(project_dir)
    manifests = render_project(project, check_overlay(overlay))
    if output is None:
        sys.stdout.write(manifests)
        return
    path = output / f"{overlay}.yaml"
    output.mkdir(parents=True, exist_ok=True)
    write_atomic(path, manifests)  # the local overlay's Secret holds the credentials
    console.print(f"{project.name}: {overlay} manifests written to {path} (`kubectl apply -f`).")


@stack_app.command("purge")
def stack_purge(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    project_dir: ProjectDir = None,
) -> None:
    """Stop the stack and delete ALL its state: objects, runs, models, flow runs, credentials."""
    from stratakit.stack.profiles import purge

    project = find_project(project_dir)
    if not yes:
        if not sys.stdin.isatty():
            raise InvalidInputError("purge deletes all stack data; confirm with --yes.")
        typer.confirm(f"Delete {project.state_dir} and {project.env_file} for good?", abort=True)
    purge(project)
    console.print(f"{project.name}: stack stopped and all its state deleted.")
