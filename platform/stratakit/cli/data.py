"""``strata data push``: DVC data to the project's bucket, then the event pipelines wait for."""

from __future__ import annotations

from typing import Annotated

import typer

from stratakit.cli._output import ProjectDir, console
from stratakit.project import find_project

data_app = typer.Typer(help="Versioned data: push it and announce it.", no_args_is_help=True)


@data_app.command("push")
def data_push(
    paths: Annotated[
        list[str] | None, typer.Argument(help="DVC-tracked paths (default: all of them).")
    ] = None,
    event_only: Annotated[
        bool, typer.Option("--event-only", help="Skip `dvc push`; only emit the event.")
    ] = False,
    project_dir: ProjectDir = None,
) -> None:
    """Run `dvc push`, then emit `strata.data.pushed`, which starts triggered flows."""
    from stratakit.flows.data_push import emit_data_pushed, push_data

    project = find_project(project_dir)
    if not event_only:
        with console.status("dvc push…"):
            output = push_data(project, paths or [])
        console.print(f"[green]✓[/green] dvc push: {output.splitlines()[-1] if output else 'done'}")
    with console.status("emitting strata.data.pushed…"):
        sent = emit_data_pushed(project, paths or [])
    console.print(
        f"[green]✓[/green] event {sent.event} ({sent.event_id}) for {sent.resource}: "
        f"{len(sent.data)} DVC-tracked path(s)"
    )
