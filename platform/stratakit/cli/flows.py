"""``strata flows``: deploy the project's pipelines to the stack's Prefect, list and run them."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from stratakit.cli._output import (
    RUN_STATE_STYLE,
    Format,
    ProjectDir,
    check_format,
    console,
    print_json,
    styled,
)
from stratakit.project import find_project

flows_app = typer.Typer(
    help="Scheduled pipelines: deploy the project's Prefect flows, list and run them.",
    no_args_is_help=True,
)


def _when(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _state(state: str | None) -> str:
    if not state:
        return "-"
    return styled(state, RUN_STATE_STYLE.get(state, "cyan"))


@flows_app.command("deploy")
def flows_deploy(fmt: Format = "table", project_dir: ProjectDir = None) -> None:
    """Create the work queues and deploy every flow configured in pyproject.toml (idempotent)."""
    from stratakit.flows.deploy import deploy_flows

    check_format(fmt)
    project = find_project(project_dir)
    with console.status("deploying…") as spinner:
        report = deploy_flows(
            project, on_progress=lambda what: spinner.update(f"deploying {what}…")
        )
    if fmt == "json":
        print_json(dataclasses.asdict(report))
        return
    for queue in report.queues:
        limit = (
            "no limit" if queue.concurrency_limit is None else f"limit {queue.concurrency_limit}"
        )
        verb = "created" if queue.created else "updated"
        console.print(
            f"[green]✓[/green] queue {queue.name}: priority {queue.priority}, {limit} ({verb})"
        )
    for deployment in report.deployments:
        when = [f"cron '{deployment.cron}'"] if deployment.cron else []
        when += [f"on {event}" for event in deployment.triggers]
        console.print(
            f"[green]✓[/green] {deployment.flow}/{deployment.name} → queue {deployment.queue}"
            + (f" ({', '.join(when)})" if when else " (runs on demand)")
        )


@flows_app.command("list")
def flows_list(fmt: Format = "table", project_dir: ProjectDir = None) -> None:
    """Each flow: queue (priority, limit), schedule, triggers, last run and next run."""
    from stratakit.flows.runs import list_flows

    check_format(fmt)
    rows = list_flows(find_project(project_dir))
    if fmt == "json":
        print_json([dataclasses.asdict(row) for row in rows])
        return
    table = Table(title="flows", title_justify="left")
    for column in ("name", "flow", "queue", "schedule", "triggers", "last run", "next run"):
        table.add_column(column)
    for row in rows:
        if not row.deployed:
            table.add_row(row.name, "[yellow]not deployed[/yellow]", *["-"] * 5)
            continue
        limit = "" if row.concurrency_limit is None else f", limit {row.concurrency_limit}"
        table.add_row(
            row.name,
            row.flow or "-",
            f"{row.queue} (priority {row.priority}{limit})",
            row.schedule or "-",
            ", ".join(row.triggers) or "-",
            f"{_state(row.last_state)} {_when(row.last_time)}" if row.last_state else "-",
            _when(row.next_run),
        )
    console.print(table if rows else "No flows configured in pyproject.toml [tool.strata.flows].")


@flows_app.command("run")
def flows_run(
    name: Annotated[str, typer.Argument(help="A flow name of [tool.strata.flows].")],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", "-p", help="KEY=VALUE parameter (repeatable; JSON values decoded)."
        ),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Follow the run to its final state.")
    ] = True,
    fmt: Format = "table",
    project_dir: ProjectDir = None,
) -> None:
    """Run a deployed flow now; with --wait, exit 1 unless it completes."""
    from stratakit.flows.runs import parse_parameters, run_flow

    check_format(fmt)
    parameters = parse_parameters(param or [])
    project = find_project(project_dir)
    with console.status(f"starting {name}…") as spinner:
        result = run_flow(
            project,
            name,
            parameters,
            wait=wait,
            on_state=lambda state: spinner.update(f"{name}: {state}…"),
        )
    if fmt == "json":
        print_json(dataclasses.asdict(result))
    else:
        console.print(
            f"{result.name}: flow run '{result.flow_run_name}' ({result.flow_run_id}) "
            f"{_state(result.state)}"
        )
    if not result.ok:
        raise typer.Exit(1)
