"""Scratch projects and the real CLI, run as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from stratakit.project import Project

KIT_ROOT = Path(__file__).resolve().parents[2]


def make_project(folder: Path, name: str = "demo-project", strata_table: str = "") -> Project:
    """A minimal project folder (what `strata stack` needs: a pyproject.toml)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = f'[project]\nname = "{name}"\nversion = "0.1.0"\n'
    if strata_table:
        text += f"\n{strata_table.strip()}\n"
    (folder / "pyproject.toml").write_text(text)
    return Project(root=folder.resolve())


def strata(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess, as a user would, with no terminal input."""
    return subprocess.run(
        [sys.executable, "-m", "stratakit.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    """The CLI failed with exit 1 and one line (no traceback) naming every needle."""
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]
