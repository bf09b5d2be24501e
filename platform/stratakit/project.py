"""Finding the project a command works on, its settings, and where its stack keeps state."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from stratakit.errors import ProjectNotFoundError, StateFileError
from stratakit.settings import StrataSettings, parse_settings

STATE_DIR_NAME = ".strata"


@dataclass(frozen=True)
class Project:
    """A project: the nearest folder holding ``pyproject.toml``, and its ``.strata/`` state."""

    root: Path

    @cached_property
    def pyproject(self) -> dict[str, Any]:
        """The parsed ``pyproject.toml``."""
        try:
            return tomllib.loads((self.root / "pyproject.toml").read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise StateFileError(
                f"{self.root / 'pyproject.toml'} cannot be read ({exc}); fix its TOML syntax."
            ) from exc

    @property
    def name(self) -> str:
        """The ``[project].name`` of ``pyproject.toml``, or the folder name."""
        name = self.pyproject.get("project", {}).get("name")
        return str(name) if isinstance(name, str) and name else self.root.name

    @cached_property
    def settings(self) -> StrataSettings:
        """The project's ``[tool.strata]`` table, parsed and validated once."""
        table = self.pyproject.get("tool", {}).get("strata", {})
        return parse_settings(table, self.root)

    @property
    def bucket(self) -> str | None:
        """The bucket named in ``[tool.strata].bucket``; ``None`` when not set.

        Generated projects name their bucket so that the DVC remote (``s3://BUCKET/dvc``)
        can be committed without an endpoint or a credential.
        """
        return self.settings.bucket

    @property
    def slug(self) -> str:
        """The name reduced to what S3 bucket names allow (lowercase, digits, dashes)."""
        slug = re.sub(r"[^a-z0-9-]+", "-", self.name.lower()).strip("-")
        slug = re.sub(r"-{2,}", "-", slug)
        return (slug or "project")[:40].rstrip("-")

    @property
    def state_dir(self) -> Path:
        """The git-ignored folder holding data, databases, logs and credentials."""
        return self.root / STATE_DIR_NAME

    @property
    def state_file(self) -> Path:
        """Ports, bucket and credentials chosen for this project (mode 0600)."""
        return self.state_dir / "stack.json"

    @property
    def logs_dir(self) -> Path:
        """One rotated log file per service."""
        return self.state_dir / "logs"

    @property
    def run_dir(self) -> Path:
        """Runtime files: supervisor configuration, socket and pid file."""
        return self.state_dir / "run"

    @property
    def data_dir(self) -> Path:
        """Service data (object store files, databases)."""
        return self.state_dir / "data"

    @property
    def env_file(self) -> Path:
        """The environment contract written for tools that read ``.env``."""
        return self.root / ".env"


def find_project(start: Path | None = None) -> Project:
    """Return the project containing ``start`` (default: the working directory).

    Raises:
        ProjectNotFoundError: no ``pyproject.toml`` in ``start`` or any parent.

    """
    here = (start or Path.cwd()).resolve()
    if not here.exists():
        raise ProjectNotFoundError(f"{here} does not exist; pass an existing --project-dir.")
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file():
            return Project(root=folder)
    raise ProjectNotFoundError(
        f"No project here: neither {here} nor a parent has a pyproject.toml. "
        "Run inside a project, create one with `strata new`, or pass --project-dir."
    )
