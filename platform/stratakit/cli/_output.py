"""What every ``strata`` command group shares, each defined once.

The common options, the consoles, the output formats, the colours and the check table.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from stratakit.errors import InvalidInputError

if TYPE_CHECKING:
    from rich.table import Table

    from stratakit.checks import CheckResult

console = Console()
err_console = Console(stderr=True)

ProjectDir = Annotated[
    Path | None,
    typer.Option(
        "--project-dir",
        "-C",
        help="Project folder (default: the nearest one with a pyproject.toml).",
        show_default=False,
    ),
]

#: ``--format`` of the commands that print a table or JSON.
TABLE_FORMATS = ("table", "json")
Format = Annotated[str, typer.Option("--format", "-f", help="table (default) or json.")]

#: One colour per service status (``strata stack up|status``, the demo).
STATUS_STYLE = {"healthy": "green", "starting": "yellow", "stopped": "dim", "failed": "red"}
#: One colour per check severity (``strata doctor``, ``strata model verify``).
SEVERITY_STYLE = {"ok": "green", "info": "cyan", "warn": "yellow", "fail": "red"}
#: One colour per Prefect run state (``strata flows``); other states are cyan.
RUN_STATE_STYLE = {"Completed": "green", "Failed": "red", "Crashed": "red", "Running": "yellow"}


def check_format(fmt: str, formats: tuple[str, ...] = TABLE_FORMATS) -> str:
    """``fmt`` if it is one of ``formats``, else a one-line error."""
    if fmt not in formats:
        raise InvalidInputError(f"Unknown format '{fmt}'; use one of: {', '.join(formats)}.")
    return fmt


def print_json(value: Any) -> None:
    """Indented JSON on standard output (dates and paths as strings)."""
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def styled(text: str, style: str | None) -> str:
    """``text`` in rich markup for ``style`` (unstyled when ``style`` is empty)."""
    return f"[{style}]{text}[/{style}]" if style else text


def human_bytes(value: int) -> str:
    """Memory in MiB, or ``-`` when unknown."""
    if value <= 0:
        return "-"
    return f"{value / 1024 / 1024:.0f} MiB"


def checks_table(title: str, results: list[CheckResult]) -> Table:
    """A table of check results, the fix (if any) under each detail."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in ("check", "result", "detail"):
        table.add_column(column)
    for result in results:
        detail = result.detail + (f"\n[dim]→ {result.fix}[/dim]" if result.fix else "")
        table.add_row(result.name, styled(result.severity, SEVERITY_STYLE[result.severity]), detail)
    return table
