"""``strata stack`` from the command line without servers: formats, errors, state kept."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from stratakit.project import Project
from stratakit.stack.context import prepare_context

from ...helpers.projects import assert_one_line_error, strata


def test_outside_any_project(tmp_path: Path) -> None:
    assert_one_line_error(strata("stack", "status", cwd=tmp_path), "pyproject.toml")


def test_unknown_service_lists_valid_names(project: Project) -> None:
    result = strata("stack", "logs", "nosuchservice", cwd=project.root)
    assert_one_line_error(result, "nosuchservice", "object-store", "mlflow", "prefect-worker")


def test_damaged_state_file_is_named_and_left_alone(project: Project) -> None:
    prepare_context(project)
    project.state_file.write_text("{ garbage")
    before = sorted(p.name for p in project.state_dir.rglob("*"))
    result = strata("stack", "up", cwd=project.root)
    assert_one_line_error(result, str(project.state_file), "strata stack up")
    assert project.state_file.read_text() == "{ garbage"
    assert sorted(p.name for p in project.state_dir.rglob("*")) == before
    assert not project.env_file.exists()


def test_env_before_up_says_to_run_up(project: Project) -> None:
    assert_one_line_error(strata("stack", "env", cwd=project.root), "strata stack up")


def test_env_rejects_unknown_format(project: Project) -> None:
    prepare_context(project)
    assert_one_line_error(strata("stack", "env", "--format", "xml", cwd=project.root), "shell")


def test_env_json_is_machine_readable(project: Project) -> None:
    prepare_context(project)
    result = strata("stack", "env", "--format", "json", cwd=project.root)
    assert result.returncode == 0
    assert "MLFLOW_TRACKING_URI" in json.loads(result.stdout)


def test_status_rejects_unknown_format(project: Project) -> None:
    result = strata("stack", "status", "--format", "yaml", cwd=project.root)
    assert_one_line_error(result, "yaml", "table", "json")


def test_status_json_reports_ports_and_which_are_forwarded(project: Project) -> None:
    ctx = prepare_context(project)
    result = strata("stack", "status", "--format", "json", cwd=project.root)
    assert result.returncode == 3  # nothing runs yet
    services = {row["name"]: row for row in json.loads(result.stdout)["services"]}
    assert {name: row["port"] for name, row in services.items()} == ctx.state.ports
    assert {name for name, row in services.items() if row["forwarded"]} == {
        "object-store",
        "mlflow",
        "prefect",
        "gateway",
        "portal",
    }
    assert {(row["status"], row["healthy"]) for row in services.values()} == {("stopped", False)}


def test_purge_without_confirmation_keeps_everything(project: Project) -> None:
    prepare_context(project)
    result = strata("stack", "purge", cwd=project.root)
    assert_one_line_error(result, "--yes")
    assert project.state_file.exists()


def test_purge_with_yes_deletes_state(project: Project) -> None:
    prepare_context(project)
    result = strata("stack", "purge", "--yes", cwd=project.root)
    assert result.returncode == 0, result.stderr
    assert not project.state_dir.exists()


def test_project_dir_option_overrides_cwd(project: Project, tmp_path: Path) -> None:
    prepare_context(project)
    result = strata("stack", "env", "--project-dir", str(project.root), cwd=tmp_path)
    assert result.returncode == 0
    assert f"STRATA_PROJECT_DIR={project.root}" in result.stdout


def test_portal_on_a_taken_port_says_to_choose_another(project: Project) -> None:
    prepare_context(project)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = str(holder.getsockname()[1])
        result = strata("portal", "--port", port, cwd=project.root)
    assert_one_line_error(result, f"port {port}", "in use", "--port")
