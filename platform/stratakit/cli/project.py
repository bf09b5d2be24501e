"""``strata new``, ``update``, ``doctor``, ``demo`` and ``version``: the project and the machine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from stratakit import __version__
from stratakit.cli._output import ProjectDir, checks_table, console
from stratakit.cli.stack import status_table
from stratakit.errors import StrataError
from stratakit.project import find_project


def register(app: typer.Typer) -> None:
    """Add this module's commands to the top-level ``strata`` app."""
    app.command("doctor")(doctor_command)
    app.command("demo")(demo_command)
    app.command("new")(new_command)
    app.command("update")(update_command)
    app.command("version")(version_command)


def doctor_command(project_dir: ProjectDir = None) -> None:
    """Check this machine (Python, uv, git, Docker, GPUs, cores, memory, disk, ports, stack)."""
    from stratakit.doctor import run_checks

    project = None
    try:
        project = find_project(project_dir)
    except StrataError:
        project = None
    results = run_checks(project)
    console.print(checks_table("strata doctor", results))
    if any(check.severity == "fail" for check in results):
        raise typer.Exit(1)


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
    from stratakit.demo.stack_tour import DemoStep, run_demo
    from stratakit.demo.walkthrough import ProjectStep, run_project_demo
    from stratakit.stack.lifecycle import stack_status

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
            "The stack keeps running: open the URLs above (the portal shows all of it: "
            f"`strata portal --open -C {root}`). Stop it with `strata stack down -C {root}`."
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


def new_command(
    dest: Annotated[Path, typer.Argument(help="Folder to create the project in.")],
    data: DataOption = None,
    defaults: Annotated[
        bool, typer.Option("--defaults", help="Use the default for every unanswered question.")
    ] = False,
    vcs_ref: VcsRefOption = None,
) -> None:
    """Generate a locked ML project from the StrataKit template (copier)."""
    from stratakit.project_template import TemplateSource, new_project, parse_data

    source = TemplateSource.locate()
    answers = parse_data(data or [], source.path)
    created = new_project(dest, answers, defaults=defaults, source=source, vcs_ref=vcs_ref)
    console.print(f"[green]Project ready:[/green] {created}", highlight=False)


def update_command(
    project_dir: ProjectDir = None,
    data: DataOption = None,
    vcs_ref: VcsRefOption = None,
) -> None:
    """Bring the project up to the template's latest version, keeping your edits."""
    from stratakit.project_template import TemplateSource, parse_data, update_project

    project = find_project(project_dir)
    answers = parse_data(data or [], TemplateSource.locate().path)
    update_project(project.root, answers, vcs_ref=vcs_ref)
    console.print(
        f"[green]Updated[/green] {project.root}; review with `git diff` and commit.",
        highlight=False,
    )


def version_command() -> None:
    """Print the StrataKit version."""
    console.print(__version__)
