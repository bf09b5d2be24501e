"""Running generated projects: their commands, their own checks, their CI's pinned uv."""

from __future__ import annotations

import subprocess
import tomllib
from collections.abc import Mapping
from pathlib import Path

import pytest

from .ci_jobs import JobRun
from .templates import KIT_ROOT, tool, user_env


def project_env(python: str | None = None) -> dict[str, str]:
    """The environment a user's shell would have: no kit virtualenv, a git identity."""
    return user_env(python)


def in_project(
    root: Path, *args: str, env: Mapping[str, str], timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run a command in the generated project with exactly ``env``."""
    done = subprocess.run(
        list(args), cwd=root, env=dict(env), capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(args)} exited {done.returncode} in {root}\n"
            f"--- stdout ---\n{done.stdout[-8000:]}\n--- stderr ---\n{done.stderr[-8000:]}"
        )
    return done


def check_project(root: Path, env: Mapping[str, str]) -> None:
    """The project's own promises: fresh lock, clean tree, its nox sessions and hooks."""
    uv = tool("uv")
    assert len(in_project(root, "git", "log", "--oneline", env=env).stdout.splitlines()) == 1
    assert in_project(root, "git", "status", "--porcelain", env=env).stdout == ""
    in_project(root, uv, "lock", "--check", env=env)
    in_project(root, uv, "sync", "--locked", env=env)
    in_project(root, uv, "run", "--locked", "nox", "-s", "lint", "typecheck", "tests", env=env)
    in_project(root, uv, "run", "--locked", "pre-commit", "run", "--all-files", env=env)
    # Formatters and fixers had nothing to change.
    assert in_project(root, "git", "status", "--porcelain", env=env).stdout == ""


def clone_elsewhere(root: Path, parent: Path, env: Mapping[str, str]) -> Path:
    """A fresh clone of the project in a folder of another depth, as a colleague gets it."""
    clone = parent / "elsewhere" / "deeper" / root.name
    clone.parent.mkdir(parents=True)
    in_project(parent, "git", "clone", "--quiet", str(root), str(clone), env=env)
    return clone


def pinned_uv() -> str:
    """The uv version the kit pins (pyproject.toml's required-version)."""
    table = tomllib.loads((KIT_ROOT / "pyproject.toml").read_text())["tool"]["uv"]
    return str(table["required-version"]).removeprefix("==")


def assert_job_ran(job: JobRun) -> None:
    assert job.ok, job.report()
