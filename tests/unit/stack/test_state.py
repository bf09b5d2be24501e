"""The stack state file: per-project credentials, 0600, atomic writes, damage named."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from stratakit.errors import StateFileError
from stratakit.project import Project
from stratakit.stack.context import prepare_context
from stratakit.stack.state import load_state, new_state, save_state


def test_new_state_generates_distinct_credentials() -> None:
    a, b = new_state("proj"), new_state("proj")
    assert a.access_key != b.access_key
    assert a.secret_key != b.secret_key
    assert a.bucket != b.bucket
    assert "minioadmin" not in (a.access_key, a.secret_key)
    assert len(a.secret_key) >= 32


def test_state_round_trips_and_is_private(tmp_path: Path) -> None:
    state = new_state("proj")
    state.ports = {"object-store": 9000}
    path = tmp_path / "stack.json"
    save_state(path, state)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_state(path) == state


def test_missing_state_is_none(tmp_path: Path) -> None:
    assert load_state(tmp_path / "absent.json") is None


@pytest.mark.parametrize(
    "content",
    ["{not json", "[]", json.dumps({"project_id": "x"}), json.dumps({"ports": 3})],
)
def test_damaged_state_names_the_file_and_the_fix(tmp_path: Path, content: str) -> None:
    path = tmp_path / "stack.json"
    path.write_text(content)
    with pytest.raises(StateFileError) as excinfo:
        load_state(path)
    message = str(excinfo.value)
    assert str(path) in message
    assert "strata stack up" in message
    assert path.read_text() == content  # nothing touched


def test_prepare_creates_private_gitignored_state(project: Project) -> None:
    ctx = prepare_context(project)
    assert stat.S_IMODE(project.state_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(project.state_file.stat().st_mode) == 0o600
    assert (project.state_dir / ".gitignore").read_text().strip().endswith("*")
    again = prepare_context(project)
    assert again.state == ctx.state  # stable across runs


def test_bucket_name_is_s3_valid(tmp_path: Path) -> None:
    project = Project(root=tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "My_Fancy Project!!"\n')
    state = prepare_context(project).state
    assert state.bucket.startswith("my-fancy-project-")
    assert 3 <= len(state.bucket) <= 63
    assert all(c.islower() or c.isdigit() or c == "-" for c in state.bucket)
