"""Options shared by every ``strata`` command group."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ProjectDir = Annotated[
    Path | None,
    typer.Option(
        "--project-dir",
        "-C",
        help="Project folder (default: the nearest one with a pyproject.toml).",
        show_default=False,
    ),
]
