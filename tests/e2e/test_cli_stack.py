"""The user-facing commands, run as a user runs them: `strata …` in a project folder."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from stratakit.stack.services import SERVICES

from ..helpers.projects import make_project, strata
from ..helpers.stacks import shut_down

pytestmark = pytest.mark.e2e


def test_up_status_logs_down_from_the_command_line(tmp_path: Path) -> None:
    project = make_project(tmp_path / "cli-project", "cli-project")
    (project.root / ".gitignore").write_text("dist/")  # no trailing newline on purpose
    try:
        up = strata("stack", "up", cwd=project.root)
        assert up.returncode == 0, up.stdout + up.stderr
        for name in SERVICES:
            assert name in up.stdout
        assert up.stdout.count("healthy") == len(SERVICES)
        assert "http://127.0.0.1:" in up.stdout

        env_file = project.root / ".env"
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        assert "AWS_SECRET_ACCESS_KEY=" in env_file.read_text()
        ignored = (project.root / ".gitignore").read_text().splitlines()
        assert ignored[0] == "dist/"
        assert {".env", ".strata/"} <= set(ignored)

        status = strata("stack", "status", cwd=project.root)
        assert status.returncode == 0
        assert status.stdout.count("healthy") == len(SERVICES)

        logs = strata("stack", "logs", "object-store", "-n", "5", cwd=project.root)
        assert logs.returncode == 0
        assert "strata: starting object-store" in logs.stdout or logs.stdout.strip()

        down = strata("stack", "down", cwd=project.root)
        assert down.returncode == 0
        assert "stopped" in down.stdout
        after = strata("stack", "status", cwd=project.root)
        assert after.returncode == 3
        assert after.stdout.count("stopped") == len(SERVICES)
    finally:
        shut_down(project)


def test_up_failure_prints_the_failing_services_log_tail(tmp_path: Path) -> None:
    project = make_project(tmp_path / "broken-cli", "broken-cli")
    (project.root / ".strata" / "data" / "prefect" / "prefect.db").mkdir(parents=True)
    try:
        up = strata("stack", "up", cwd=project.root)
        assert up.returncode == 1
        assert "Traceback" not in up.stderr
        assert "Service 'prefect' could not start" in up.stderr
        assert "cannot open database" in up.stderr  # the log tail is shown
    finally:
        shut_down(project)


def test_demo_runs_end_to_end_and_stops(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    result = strata("demo", "--project-dir", str(demo), "--down", cwd=tmp_path, timeout=1200)
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        text = " ".join(result.stdout.split())  # undo the console's line wrapping
        assert "stored and read back s3://" in text
        assert "alias production set, loaded back and predicted" in text
        assert "completed; its flaky task ran 2 times (Prefect retried it 1 time(s))" in text
        # The project half: generated, pipeline run, data pushed, version registered.
        assert "uv run nox -s pipeline" in text
        assert "churn_forecast version 1: lineage" in text
        assert "uv run strata model verify churn_forecast/1" in text
        assert "uv run strata model promote churn_forecast 1" in text
        assert "strata.artifact_sha256" in text
        assert "(features from the online store) → P(churn) = " in text
        assert "The stacks are stopped again" in text
        assert (demo / "churn-forecast" / "dvc.lock").is_file()
    finally:
        from stratakit.project import Project

        shut_down(Project(root=demo.resolve()))
        if (demo / "churn-forecast" / ".strata" / "stack.json").exists():
            shut_down(Project(root=(demo / "churn-forecast").resolve()))
