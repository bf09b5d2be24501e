"""Finding the project a command works on, and refusing a bad bucket before any state."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratakit.errors import ProjectNotFoundError, SettingsError
from stratakit.project import Project, find_project
from stratakit.stack.context import prepare_context

from ..helpers.projects import make_project


def test_nearest_pyproject_wins(tmp_path: Path) -> None:
    outer = make_project(tmp_path / "outer", "outer")
    inner = make_project(tmp_path / "outer" / "pkg", "inner")
    deep = inner.root / "src" / "deep"
    deep.mkdir(parents=True)
    assert find_project(deep).root == inner.root
    assert find_project(outer.root).name == "outer"


def test_outside_any_project_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectNotFoundError, match=r"pyproject\.toml.*--project-dir"):
        find_project(tmp_path)


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectNotFoundError, match="does not exist"):
        find_project(tmp_path / "nope")


@pytest.mark.parametrize("bucket", ["Churn_Data", "ab", "-churn", "x" * 64, 42])
def test_invalid_bucket_in_pyproject_is_a_clear_error(tmp_path: Path, bucket: object) -> None:
    project = make_project(tmp_path / "p", "p")
    value = f'"{bucket}"' if isinstance(bucket, str) else str(bucket)
    with (project.root / "pyproject.toml").open("a") as handle:
        handle.write(f"\n[tool.strata]\nbucket = {value}\n")
    with pytest.raises(SettingsError, match=r"\[tool\.strata\]\.bucket .* lowercase"):
        prepare_context(Project(root=project.root))
    assert not (project.root / ".strata" / "stack.json").exists()
