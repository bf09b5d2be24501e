"""The other answer sets run their own checks and pipeline too.

Slow: Python 3.12 with W&B alone, GitLab CI and no notebooks (its GitLab jobs run step by
step in a fresh clone elsewhere); Python 3.13 with MLflow and W&B in one run and no CI
files (its checks, then its pipeline on its own stack).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stratakit.project import Project

from ..helpers.ci_jobs import run_gitlab_job
from ..helpers.generated import (
    assert_job_ran,
    check_project,
    clone_elsewhere,
    in_project,
    project_env,
)
from ..helpers.stacks import shut_down
from ..helpers.templates import MATRIX, NON_DEFAULT, generate, interpreter, tool

pytestmark = pytest.mark.e2e


def test_non_default_project_passes_its_own_checks(tmp_path: Path) -> None:
    """Python 3.12, W&B only, GitLab CI, no notebooks: its GitLab jobs run in a fresh clone."""
    python = interpreter(NON_DEFAULT["python_version"])
    assert python, f"no Python {NON_DEFAULT['python_version']} here: install it with pyenv"
    env = project_env(python)
    root = generate(tmp_path, NON_DEFAULT, env)
    assert (root / ".gitlab-ci.yml").is_file()
    assert not (root / "notebooks").exists()
    clone = clone_elsewhere(root, tmp_path, env)
    pipeline = clone / ".gitlab-ci.yml"
    assert_job_ran(run_gitlab_job(pipeline, "checks", clone, env))
    version = in_project(clone, tool("uv"), "run", "--locked", "python", "--version", env=env)
    assert version.stdout.startswith(f"Python {NON_DEFAULT['python_version']}")
    try:
        assert_job_ran(run_gitlab_job(pipeline, "pipeline", clone, env))
    finally:
        shut_down(Project(root=clone))

    # W&B recorded the pipeline offline (no API key): train, then evaluate resuming the run.
    assert json.loads((clone / "metrics" / "metrics.json").read_text())["roc_auc"] > 0.7
    runs = sorted((clone / "wandb").glob("offline-run-*"))
    assert len(runs) == 2, runs
    assert runs[0].name.rsplit("-", 1)[1] == runs[1].name.rsplit("-", 1)[1]


def test_both_trackers_on_python_3_13_record_one_pipeline_run(tmp_path: Path) -> None:
    """MLflow and W&B (offline) in one run, on Python 3.13, no CI files: checks, pipeline."""
    answers = MATRIX["both-trackers"]
    python = interpreter(answers["python_version"])
    assert python, f"no Python {answers['python_version']} here: install it with pyenv"
    env = project_env(python)
    root = generate(tmp_path, answers, env)
    check_project(root, env)
    assert not (root / ".github").exists() and not (root / ".gitlab-ci.yml").exists()
    uv = tool("uv")
    try:
        in_project(root, uv, "run", "--locked", "strata", "stack", "up", env=env)
        out = in_project(root, uv, "run", "--locked", "nox", "-s", "pipeline", env=env).stdout
    finally:
        in_project(root, uv, "run", "--locked", "strata", "stack", "down", env=env)
        shut_down(Project(root=root))
    assert "registered demand_planner version 1" in out, out[-3000:]
    runs = sorted((root / "wandb").glob("offline-run-*"))
    assert len(runs) == 2, runs  # train, then evaluate resuming the same W&B run
    record = json.loads((root / "models" / "run.json").read_text())
    assert set(record["trackers"]) == {"mlflow", "wandb"}
