"""`strata doctor`'s checks: the machine, the disk, missing tools and the project's ports."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from stratakit.checks import CheckResult
from stratakit.doctor import check_disk, check_stack, check_uv, run_checks
from stratakit.project import Project
from stratakit.stack.context import prepare_context
from stratakit.stack.services import SERVICES

from ..helpers.stacks import use_random_ports


@pytest.fixture
def prepared(project: Project) -> Project:
    """A project whose stack was set up on random free ports, and is down."""
    use_random_ports(project)
    prepare_context(project)
    return project


def by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {result.name: result for result in results}


def test_outside_a_project_every_machine_check_is_reported() -> None:
    results = run_checks(None)
    names = [result.name for result in results]
    for name in ("python", "uv", "git", "docker", "gpu", "cpu/memory", "disk", "project"):
        assert name in names
    assert {result.severity for result in results} <= {"ok", "info", "warn", "fail"}
    assert all(result.detail for result in results)
    assert by_name(results)["python"].severity == "ok"
    assert "stack checks skipped" in by_name(results)["project"].detail


def test_inside_a_project_the_stack_is_checked_instead(prepared: Project) -> None:
    names = [result.name for result in run_checks(prepared)]
    assert "project" not in names
    assert names[-len(SERVICES) :] == [f"stack: {name}" for name in SERVICES]
    assert not list(prepared.state_dir.glob(".strata-disk-probe-*"))


def test_the_disk_check_reports_space_and_speed_and_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    result = check_disk(tmp_path)
    assert result.name == "disk"
    assert result.severity in {"ok", "warn"}
    assert f"GiB free at {tmp_path}" in result.detail
    assert result.detail.count("MiB/s") == 2
    assert list(tmp_path.iterdir()) == []


def test_a_project_never_set_up_shows_the_default_ports(project: Project) -> None:
    [result] = check_stack(project)
    assert result.severity == "info"
    assert "not set up yet" in result.detail
    for name, definition in SERVICES.items():
        assert f"{name} {definition.default_port}" in result.detail


def test_a_stopped_stack_reports_each_port_free(prepared: Project) -> None:
    ports = prepare_context(prepared).state.ports
    results = by_name(check_stack(prepared))
    assert set(results) == {f"stack: {name}" for name in SERVICES}
    for name, port in ports.items():
        result = results[f"stack: {name}"]
        assert result.severity == "info"
        assert result.detail == f"down; port {port} free"
        assert result.fix == ""


def test_a_port_taken_by_another_program_says_another_will_be_chosen(
    prepared: Project,
) -> None:
    taken = prepare_context(prepared).state.ports["mlflow"]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other_program:
        other_program.bind(("127.0.0.1", taken))
        other_program.listen()
        results = by_name(check_stack(prepared))
    mlflow = results["stack: mlflow"]
    assert mlflow.detail == f"down; port {taken} is taken by another program"
    assert "choose another port" in mlflow.fix
    assert results["stack: gateway"].detail.endswith("free")


def test_without_uv_on_path_the_fix_is_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = check_uv()
    assert result.severity == "fail"
    assert "pip install uv" in result.fix
