"""A stack that was set up but never started: its status, .env, logs, stop and purge."""

from __future__ import annotations

import pytest
from dotenv import dotenv_values

from stratakit.errors import UnknownServiceError
from stratakit.project import Project
from stratakit.stack.context import contract_for, prepare_context
from stratakit.stack.lifecycle import (
    log_file,
    purge_stack,
    stack_status,
    stop_stack,
    write_env_file,
)
from stratakit.stack.services import SERVICES

from ...helpers.stacks import use_random_ports


@pytest.fixture
def prepared(project: Project) -> Project:
    """A project whose stack has been set up (state, ports, folders) but never started."""
    use_random_ports(project)
    prepare_context(project)
    return project


def gitignore_lines(project: Project) -> list[str]:
    return (project.root / ".gitignore").read_text().splitlines()


def test_a_stack_never_started_reports_every_service_stopped(prepared: Project) -> None:
    ctx = prepare_context(prepared)
    statuses = stack_status(prepared)
    assert [s.name for s in statuses] == list(SERVICES)
    for status in statuses:
        assert status.status == "stopped"
        assert not status.healthy
        assert status.pid is None
        assert status.rss_bytes == 0
        assert status.port == ctx.state.ports[status.name]
        assert status.url.endswith(f":{status.port}")
    forwarded = {s.name: s.forwarded for s in statuses}
    assert forwarded == {
        "object-store": True,
        "mlflow": True,
        "prefect": True,
        "prefect-worker": False,
        "gateway": True,
        "portal": True,
    }


def test_the_env_file_is_private_and_holds_the_contract(prepared: Project) -> None:
    ctx = prepare_context(prepared)
    path = write_env_file(ctx)
    assert path == prepared.root / ".env"
    assert path.stat().st_mode & 0o777 == 0o600
    assert dotenv_values(path) == contract_for(ctx)


def test_the_env_file_and_state_folder_are_git_ignored_once(prepared: Project) -> None:
    ctx = prepare_context(prepared)
    write_env_file(ctx)
    write_env_file(ctx)
    lines = gitignore_lines(prepared)
    assert lines.count(".env") == 1
    assert lines.count(".strata/") == 1


def test_an_existing_gitignore_without_final_newline_is_extended_cleanly(
    prepared: Project,
) -> None:
    (prepared.root / ".gitignore").write_text("__pycache__/\n*.egg-info")
    write_env_file(prepare_context(prepared))
    assert gitignore_lines(prepared) == ["__pycache__/", "*.egg-info", ".env", ".strata/"]


def test_entries_already_in_the_gitignore_are_not_repeated(prepared: Project) -> None:
    (prepared.root / ".gitignore").write_text(".strata/\n  .env  \n")
    write_env_file(prepare_context(prepared))
    assert (prepared.root / ".gitignore").read_text() == ".strata/\n  .env  \n"


def test_logs_of_an_unknown_service_list_the_valid_names(project: Project) -> None:
    with pytest.raises(UnknownServiceError) as caught:
        log_file(project, "nosuchservice")
    message = str(caught.value)
    assert "nosuchservice" in message
    for name in SERVICES:
        assert name in message


def test_each_service_has_its_own_log_under_the_state_folder(project: Project) -> None:
    assert log_file(project, "mlflow") == project.state_dir / "logs" / "mlflow.log"


def test_stopping_a_stack_that_never_ran_reports_nothing_stopped_and_keeps_state(
    prepared: Project,
) -> None:
    state_before = prepared.state_file.read_text()
    write_env_file(prepare_context(prepared))
    assert stop_stack(prepared) is False
    assert prepared.state_file.read_text() == state_before
    assert prepared.env_file.exists()


def test_purge_deletes_the_state_folder_and_the_env_file(prepared: Project) -> None:
    write_env_file(prepare_context(prepared))
    purge_stack(prepared)
    assert not prepared.state_dir.exists()
    assert not prepared.env_file.exists()
    assert (prepared.root / "pyproject.toml").exists()


def test_purging_a_project_without_a_stack_is_harmless(project: Project) -> None:
    purge_stack(project)
    assert not project.state_dir.exists()
    assert (project.root / "pyproject.toml").exists()
