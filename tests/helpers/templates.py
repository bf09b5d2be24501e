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
) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure, fail the test with its output."""
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
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
