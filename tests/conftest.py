from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stratakit.project import Project


def make_project(folder: Path, name: str = "demo-project") -> Project:
    """A minimal project folder (what `strata stack` needs: a pyproject.toml)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(f'[project]\nname = "{name}"\nversion = "0.1.0"\n')
    return Project(root=folder.resolve())


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "proj")


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
