from __future__ import annotations

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
