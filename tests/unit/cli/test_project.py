"""``strata doctor``, ``version`` and ``--help`` from the command line."""

from __future__ import annotations

from stratakit import __version__
from stratakit.project import Project

from ...helpers.projects import strata


def test_doctor_reports_machine_facts(project: Project) -> None:
    result = strata("doctor", cwd=project.root)
    assert result.returncode == 0, result.stdout + result.stderr
    for word in ("python", "uv", "git", "docker", "gpu", "cores", "MiB/s"):
        assert word in result.stdout


def test_version_and_help_answer_without_a_project(project: Project) -> None:
    assert strata("version", cwd=project.root).stdout.strip() == __version__
    result = strata("--help", cwd=project.root)
    assert result.returncode == 0
    for group in ("stack", "model", "features", "flows", "data", "new", "doctor"):
        assert group in result.stdout
