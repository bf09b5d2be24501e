"""The ``strata`` command line: parses arguments, calls one library function, prints."""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from stratakit import __version__
from stratakit.cli_features import features_app
from stratakit.cli_flows import data_app, flows_app
from stratakit.cli_model import model_app
from stratakit.cli_options import ProjectDir
from stratakit.contract import FORMATS, render
from stratakit.errors import InvalidInputError, StackStartError, StrataError
from stratakit.project import Project, find_project
from stratakit.services import SERVICES, get_service
from stratakit.stack import (
    ServiceStatus,
    log_file,
    purge_stack,
    stack_status,
    start_stack,
    stop_stack,
)
from stratakit.stack_context import contract_for, load_context
from stratakit.template import TemplateSource, new_project, parse_data, update_project

STATUS_FORMATS = ("table", "json")

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    name="strata",
    help="StrataKit: a standardized ML development environment and its local platform stack.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
stack_app = typer.Typer(help="Run the project's local platform stack.", no_args_is_help=True)
app.add_typer(stack_app, name="stack")
app.add_typer(model_app, name="model")
app.add_typer(features_app, name="features")
app.add_typer(flows_app, name="flows")
app.add_typer(data_app, name="data")


_STATUS_STYLE = {"healthy": "green", "starting": "yellow", "stopped": "dim", "failed": "red"}


def _project(project_dir: Path | None) -> Project:
    return find_project(project_dir)


def _human_bytes(value: int) -> str:
    if value <= 0:
        return "-"
    return f"{value / 1024 / 1024:.0f} MiB"


def status_table(statuses: list[ServiceStatus], title: str) -> Table:
    """A readable table of the stack's services."""
    table = Table(title=title, title_justify="left")
    for column in ("service", "URL", "status", "pid", "memory"):
        table.add_column(column, justify="right" if column in {"pid", "memory"} else "left")
    for row in statuses:
        style = _STATUS_STYLE.get(row.status, "yellow")
        table.add_row(
            row.name,
            row.url,
            f"[{style}]{row.status}[/{style}]",
            str(row.pid or "-"),
            _human_bytes(row.rss_bytes),
        )
    total = sum(row.rss_bytes for row in statuses)
    table.caption = f"total memory: {_human_bytes(total)}"
    return table


def _progress_table(progress: dict[str, str], started: float) -> Table:
    table = Table(
        title=f"starting the stack… {time.monotonic() - started:4.1f} s", title_justify="left"
    )
    table.add_column("service")
    table.add_column("status")
    for name, status in progress.items():
        style = _STATUS_STYLE.get(status, "yellow")
        table.add_row(name, f"[{style}]{status}[/{style}]")
    return table


@stack_app.command("up")
def stack_up(project_dir: ProjectDir = None) -> None:
    """Start every service and wait until each answers its health check."""
    project = _project(project_dir)
    progress = {name: "waiting" for name in SERVICES}
    started = time.monotonic()
    with Live(_progress_table(progress, started), console=console, transient=True) as live:

        def update(name: str, status: str) -> None:
            progress[name] = status
            live.update(_progress_table(progress, started))

        statuses = start_stack(project, on_progress=update)
    elapsed = time.monotonic() - started
    console.print(status_table(statuses, f"{project.name}: stack up in {elapsed:.1f} s"))
    console.print(f"Environment contract written to {project.env_file} (`strata stack env`).")


@stack_app.command("down")
def stack_down(project_dir: ProjectDir = None) -> None:
    """Stop every service; data, runs and models are kept."""
    project = _project(project_dir)
    if stop_stack(project):
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
    if fmt not in STATUS_FORMATS:
        raise InvalidInputError(f"Unknown format '{fmt}'; use one of: {', '.join(STATUS_FORMATS)}.")
    project = _project(project_dir)
    statuses = stack_status(project)
    if fmt == "json":
        rows = [dataclasses.asdict(row) | {"healthy": row.healthy} for row in statuses]
        sys.stdout.write(json.dumps({"project": project.name, "services": rows}, indent=2) + "\n")
    else:
        console.print(status_table(statuses, f"{project.name}: stack status"))
    if not all(row.healthy for row in statuses):
        raise typer.Exit(3)


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
    project = _project(project_dir)
    names = [get_service(service).name] if service else list(SERVICES)
    if follow and len(names) != 1:
        raise InvalidInputError("--follow needs one SERVICE, e.g. `strata stack logs mlflow -f`.")
    from stratakit.files import tail

    for name in names:
        path = log_file(project, name)
        if len(names) > 1:
            console.rule(f"{name} ({path})")
        text = tail(path, lines)
        console.print(text if text else "[dim](no log yet)[/dim]", markup=False, highlight=False)
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
    project_dir: ProjectDir = None,
) -> None:
    """Print the environment contract (`eval "$(strata stack env)"`)."""
    if fmt not in FORMATS:
        raise InvalidInputError(f"Unknown format '{fmt}'; use one of: {', '.join(FORMATS)}.")
    ctx = load_context(_project(project_dir))
    sys.stdout.write(render(contract_for(ctx), fmt))


@stack_app.command("purge")
def stack_purge(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    project_dir: ProjectDir = None,
) -> None:
    """Stop the stack and delete ALL its state: objects, runs, models, flow runs, credentials."""
    project = _project(project_dir)
    if not yes:
        if not sys.stdin.isatty():
            raise InvalidInputError("purge deletes all stack data; confirm with --yes.")
        typer.confirm(f"Delete {project.state_dir} and {project.env_file} for good?", abort=True)
    purge_stack(project)
    console.print(f"{project.name}: stack stopped and all its state deleted.")


@app.command("doctor")
def doctor_command(project_dir: ProjectDir = None) -> None:
    """Check this machine (Python, uv, git, Docker, GPUs, cores, memory, disk, ports, stack)."""
    from stratakit.doctor import run_checks

    project = None
    try:
        project = find_project(project_dir)
    except StrataError:
        project = None
    results = run_checks(project)
    table = Table(title="strata doctor", title_justify="left")
    for column in ("check", "result", "detail"):
        table.add_column(column)
    styles = {"ok": "green", "warn": "yellow", "fail": "red", "info": "cyan"}
    for check in results:
        style = styles[check.level]
        detail = check.detail + (f"\n[dim]→ {check.fix}[/dim]" if check.fix else "")
        table.add_row(check.name, f"[{style}]{check.level}[/{style}]", detail)
    console.print(table)
    if any(check.level == "fail" for check in results):
        raise typer.Exit(1)


@app.command("demo")
def demo_command(
    project_dir: Annotated[
        Path, typer.Option("--project-dir", "-C", help="Scratch project to run the demo in.")
    ] = Path(".strata-demo"),
    down: Annotated[bool, typer.Option("--down", help="Stop the stacks at the end.")] = False,
    with_project: Annotated[
        bool,
        typer.Option(
            "--project/--no-project",
            help="Also generate a project from the template and run its pipeline.",
        ),
    ] = True,
) -> None:
    """Use every service of the stack, then generate a project and run its pipeline."""
    from stratakit.demo import DemoStep, run_demo
    from stratakit.project_demo import ProjectStep, run_project_demo

    def step_done(step: DemoStep | ProjectStep) -> None:
        label = step.service if isinstance(step, DemoStep) else "project"
        what = step.what if isinstance(step, DemoStep) else step.title
        console.print(f"[green]✓[/green] [bold]{label}[/bold] ({step.seconds:.1f} s): {what}")

    with console.status("starting the stack…") as spinner:

        def progress(name: str, status: str) -> None:
            spinner.update(f"starting the stack… {name}: {status}")

        report = run_demo(
            project_dir, on_progress=progress, on_step=step_done, stop_after=down or with_project
        )
    console.print(status_table(report.services, f"{report.project.root}: services"))
    if not with_project:
        _demo_footer(report.project.root, down)
        return
    dest = report.project.root / "churn-forecast"
    with console.status("generating a project and running its pipeline…"):
        model = run_project_demo(dest, on_step=step_done, stop_after=down)
    table = Table(title=f"{model.name} version {model.version}: lineage", title_justify="left")
    table.add_column("tag")
    table.add_column("value", overflow="fold")
    for key, value in sorted(model.tags.items()):
        table.add_row(key, value)
    console.print(table)
    console.print(status_table(stack_status(find_project(dest)), f"{dest}: services"))
    _demo_footer(dest, down)


def _demo_footer(root: Path, down: bool) -> None:
    if down:
        console.print("The stacks are stopped again; their data is kept.")
    else:
        console.print(
            "The stack keeps running: open the URLs above. Stop it with "
            f"`strata stack down -C {root}`."
        )


DataOption = Annotated[
    list[str] | None,
    typer.Option(
        "--data",
        "-d",
        help="Answer a template question, KEY=VALUE (repeatable), e.g. -d tracking=both.",
        show_default=False,
    ),
]
VcsRefOption = Annotated[
    str | None,
    typer.Option("--vcs-ref", help="Template git ref to use (default: latest tag, or HEAD)."),
]


@app.command("new")
def new_command(
    dest: Annotated[Path, typer.Argument(help="Folder to create the project in.")],
    data: DataOption = None,
    defaults: Annotated[
        bool, typer.Option("--defaults", help="Use the default for every unanswered question.")
    ] = False,
    vcs_ref: VcsRefOption = None,
) -> None:
    """Generate a locked ML project from the StrataKit template (copier)."""
    source = TemplateSource.locate()
    answers = parse_data(data or [], source.path)
    created = new_project(dest, answers, defaults=defaults, source=source, vcs_ref=vcs_ref)
    console.print(f"[green]Project ready:[/green] {created}", highlight=False)


@app.command("update")
def update_command(
    project_dir: ProjectDir = None,
    data: DataOption = None,
    vcs_ref: VcsRefOption = None,
) -> None:
    """Bring the project up to the template's latest version, keeping your edits."""
    project = _project(project_dir)
    answers = parse_data(data or [], TemplateSource.locate().path)
    update_project(project.root, answers, vcs_ref=vcs_ref)
    console.print(
        f"[green]Updated[/green] {project.root}; review with `git diff` and commit.",
        highlight=False,
    )


@app.command("version")
def version_command() -> None:
    """Print the StrataKit version."""
    console.print(__version__)


def main() -> None:
    """Run the CLI; domain errors become one red line and exit status 1, Ctrl-C 130."""
    try:
        result = app(standalone_mode=False)
    except StackStartError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        if exc.log_tail:
            err_console.rule(f"last lines of {exc.service}.log")
            err_console.print(exc.log_tail, markup=False, highlight=False)
        sys.exit(exc.exit_code)
    except StrataError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    main()
