"""Options shared by every ``strata`` command group."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from stratakit.errors import InvalidInputError

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
Format = Annotated[str, typer.Option("--format", "-f", help="table (default) or json.")]


def check_format(fmt: str) -> str:
    """``fmt`` if it is ``table`` or ``json``, else a one-line error."""
    if fmt not in {"table", "json"}:
        raise InvalidInputError(f"Unknown format '{fmt}'; use one of: table, json.")
    return fmt


def print_json(value: Any) -> None:
    """Indented JSON on standard output (dates and paths as strings)."""
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")
