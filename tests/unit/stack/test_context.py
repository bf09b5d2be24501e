"""A project's stack context: folders, ports, state, and the environment contract."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from stratakit.contract import TELEMETRY_OFF, render
from stratakit.errors import SettingsError
from stratakit.project import Project
from stratakit.stack.context import contract_for, prepare_context

from ...helpers.projects import make_project

REQUIRED = {
    "AWS_ENDPOINT_URL_S3",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "AWS_REQUEST_CHECKSUM_CALCULATION",
    "AWS_RESPONSE_CHECKSUM_VALIDATION",
    "STRATA_BUCKET",
    "MLFLOW_TRACKING_URI",
    "PREFECT_API_URL",
}


def test_contract_holds_every_required_variable(project: Project) -> None:
    contract = contract_for(prepare_context(project))
    assert contract.keys() >= REQUIRED
    assert contract["AWS_REQUEST_CHECKSUM_CALCULATION"] == "when_required"
    assert contract["AWS_RESPONSE_CHECKSUM_VALIDATION"] == "when_required"
    assert contract["PREFECT_API_URL"].endswith("/api")
    for key, value in TELEMETRY_OFF.items():
        assert contract[key] == value


def test_every_endpoint_is_loopback(project: Project) -> None:
    contract = contract_for(prepare_context(project))
    for key in ("AWS_ENDPOINT_URL_S3", "MLFLOW_TRACKING_URI", "PREFECT_API_URL"):
        assert contract[key].startswith("http://127.0.0.1:"), key


def test_shell_format_is_eval_safe_for_generated_secrets(project: Project) -> None:
    contract = contract_for(prepare_context(project))
    for line in render(contract, "shell").splitlines():
        assert shlex.split(line)[0] == "export"


def test_bucket_named_in_pyproject_is_used_for_the_stack(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", "p", '[tool.strata]\nbucket = "churn-data"')
    ctx = prepare_context(Project(root=project.root))
    assert ctx.state.bucket == "churn-data"


def test_state_folder_is_private_and_ignored_by_git(project: Project) -> None:
    prepare_context(project)
    assert project.state_dir.stat().st_mode & 0o777 == 0o700
    assert project.state_file.stat().st_mode & 0o777 == 0o600
    assert (project.state_dir / ".gitignore").read_text().splitlines()[-1] == "*"


def test_prepare_keeps_the_recorded_ports_and_credentials(project: Project) -> None:
    first = prepare_context(project)
    again = prepare_context(project)
    assert again.state == first.state


def test_feature_store_variables_follow_the_settings(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "p",
        "p",
        '[tool.strata.features]\nrepo = "features"\nonline_store = "redis://cache:6380/2"',
    )
    contract = contract_for(prepare_context(project))
    assert contract["STRATA_FEATURE_REPO"] == str(project.root / "features")
    assert json.loads(contract["STRATA_FEAST_ONLINE_STORE"]) == {
        "type": "redis",
        "connection_string": "cache:6380,db=2",
    }
    assert contract["STRATA_FEAST_REGISTRY"].startswith(str(project.state_dir))


def test_the_contract_places_feast_state_under_the_stack_folder(project: Project) -> None:
    contract = contract_for(prepare_context(project))
    assert contract["STRATA_FEAST_REGISTRY"] == str(project.data_dir / "feast" / "registry.db")
    assert json.loads(contract["STRATA_FEAST_ONLINE_STORE"]) == {
        "type": "sqlite",
        "path": str(project.data_dir / "feast" / "online.db"),
    }
    assert contract["STRATA_FEATURE_REPO"] == str(project.root / "feature_repo")
    assert (project.data_dir / "feast").stat().st_mode & 0o077 == 0


def test_a_mistake_in_the_settings_leaves_nothing_on_disk(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", "p", '[tool.strata.serving]\nalias = "two words"')
    with pytest.raises(SettingsError, match=r"\[tool.strata.serving\].alias"):
        prepare_context(project)
    assert not project.state_dir.exists()


def test_a_stack_set_up_by_an_earlier_kit_gets_the_new_service_at_the_next_up(
    project: Project,
) -> None:
    from stratakit.errors import StackNotRunningError
    from stratakit.stack.context import load_context
    from stratakit.stack.state import load_state, save_state

    ports = prepare_context(project).state.ports
    state = load_state(project.state_file)
    assert state is not None
    state.ports = {name: port for name, port in ports.items() if name != "portal"}
    save_state(project.state_file, state)
    with pytest.raises(StackNotRunningError, match="earlier kit, without portal; run `strata"):
        load_context(project)
    again = prepare_context(project).state.ports
    assert again["portal"] and {k: again[k] for k in state.ports} == state.ports
    assert load_context(project).state.ports == again
