from pathlib import Path

import pytest

from stratakit.errors import ProjectNotFoundError
from stratakit.project import find_project

from ..conftest import make_project


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
