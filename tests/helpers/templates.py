"""Rendering the kit's template with real copier, running tools, finding interpreters."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import copier
import pytest

KIT_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

#: Every question answered differently from its default.
NON_DEFAULT: dict[str, Any] = {
    "project_name": "Fraud Radar",
    "package_name": "fraud_core",
    "description": "Scores card transactions for fraud.",
    "author_name": "Risk Science",
    "author_email": "risk@example.org",
    "owner_team": "risk-ds",
    "python_version": "3.12",
    "tracking": "wandb",
    "devcontainer": "cpu",
    "ci": "gitlab",
    "license": "MIT",
    "notebooks": False,
}

#: A pruned matrix: each value of each question appears at least once.
MATRIX: dict[str, dict[str, Any]] = {
    "defaults": {"project_name": "Churn Forecast"},
    "non-default": NON_DEFAULT,
    "both-trackers": {
        "project_name": "Demand Planner",
        "tracking": "both",
        "ci": "none",
        "license": "BSD-3-Clause",
        "python_version": "3.13",
    },
    "proprietary-long-name": {
        "project_name": "Quarterly revenue forecasting v2",
        "license": "Proprietary",
        "notebooks": False,
        "devcontainer": "cpu",
    },
}


def render(dest: Path, data: Mapping[str, Any], **options: Any) -> Path:
    """Render the kit's template into ``dest`` without running its tasks."""
    copier.run_copy(
        str(KIT_ROOT),
        dest,
        data=dict(data),
        defaults=True,
        unsafe=True,
        skip_tasks=True,
        quiet=True,
        vcs_ref="HEAD",
        **options,
    )
    return dest


def run(
    args: Sequence[str | Path],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a command (with exactly ``env`` when given, else this process's environment); on
    failure (unless ``check`` is false), fail the test with its output."""
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and done.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, args))} exited {done.returncode} in {cwd}\n"
            f"--- stdout ---\n{done.stdout[-6000:]}\n--- stderr ---\n{done.stderr[-6000:]}"
        )
    return done


def tool(name: str) -> str:
    """A command-line tool installed next to the running interpreter (or on PATH)."""
    local = BIN / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: run `uv sync --locked` in the kit")
    return found


def interpreter(version: str) -> str | None:
    """An interpreter of ``version`` (X.Y) on this machine, without downloading one."""
    pyenv = Path("~/.pyenv/versions").expanduser()
    for candidate in sorted(pyenv.glob(f"{version}*/bin/python{version}")):
        return str(candidate)
    done = subprocess.run(
        [tool("uv"), "python", "find", "--no-python-downloads", version],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or None if done.returncode == 0 else None


def user_env(python: str | None = None) -> dict[str, str]:
    """The environment of a user's shell: no kit virtualenv, a git identity, no downloads of
    Python (``python`` picks the interpreter, e.g. one of pyenv's), and Python free to write
    its bytecode cache, as on a workstation (this machine forbids it by default)."""
    # The kit's test session (nox) selects its own environment through these.
    hidden = {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "UV_PYTHON", "PYTHONDONTWRITEBYTECODE"}
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env.update(
        UV_PYTHON_DOWNLOADS="never",
        GIT_AUTHOR_NAME="Kit Test",
        GIT_AUTHOR_EMAIL="kit@example.com",
        GIT_COMMITTER_NAME="Kit Test",
        GIT_COMMITTER_EMAIL="kit@example.com",
    )
    if python:
        env["UV_PYTHON"] = python
    return env


def git(cwd: Path, *args: str) -> str:
    """A git command that must succeed (a fixed identity for commits); its output."""
    identity = ["-c", "user.name=Kit Test", "-c", "user.email=kit@example.com"]
    return run(["git", *identity, *args], cwd=cwd).stdout.strip()


def kit_snapshot(dest: Path) -> Path:
    """A git repository holding the kit as it is in this checkout, committed files and
    uncommitted changes alike: what a user's clone of the kit would be, one commit deep."""
    listed = run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=KIT_ROOT
    ).stdout
    for relative in filter(None, listed.split("\0")):
        source = KIT_ROOT / relative
        if source.is_file():  # a tracked file deleted in the working tree is left out
            (dest / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / relative)
    git(dest, "init", "--quiet", "--initial-branch=main")
    git(dest, "add", "--all")
    git(dest, "commit", "--quiet", "-m", "the kit as it is in the working tree")
    return dest


def generate(parent: Path, data: Mapping[str, Any], env: Mapping[str, str]) -> Path:
    """`strata new` exactly as a user runs it (tasks included); returns the project."""
    dest = parent / "project"
    args = [sys.executable, "-m", "stratakit.cli", "new", str(dest), "--defaults"]
    for key, value in data.items():
        args += ["--data", f"{key}={str(value).lower() if isinstance(value, bool) else value}"]
    done = subprocess.run(
        args, cwd=parent, env=dict(env), capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode != 0:
        pytest.fail(
            f"strata new exited {done.returncode}:\n{done.stdout[-6000:]}{done.stderr[-6000:]}"
        )
    return dest
