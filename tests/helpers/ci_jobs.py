"""Running a generated project's CI jobs here, step by step, as the CI service would.

GitHub Actions: each job's ``run:`` steps run in order with the workflow's, the job's and
the step's ``env``; ``uses:`` steps are replaced by what they do on this machine (the
checkout is the fresh clone the job runs in; setup-uv must ask for the uv installed here);
``if: failure()`` and ``if: always()`` steps run when they would. GitLab CI: the job's
``before_script``, ``script`` and ``after_script``, with its ``variables``; the image's
package installs (apt, pip) are skipped, everything else runs.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

#: ``${{ github.run_id }}``-style expressions → what this runner substitutes.
GITHUB_CONTEXT = {"github.run_id": "4242", "github.ref": "refs/heads/main"}
_EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")
#: GitLab commands that install what this machine already has (git, the pinned uv).
_IMAGE_SETUP = re.compile(r"^(apt-get |pip install )")


@dataclass
class StepResult:
    name: str
    command: str
    returncode: int
    output: str


@dataclass
class JobRun:
    """What one job did, step by step."""

    job: str
    steps: list[StepResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.returncode == 0 for step in self.steps)

    def report(self) -> str:
        return "\n".join(
            f"--- {s.name} (exit {s.returncode}): {s.command}\n{s.output[-4000:]}"
            for s in self.steps
        )


def _expand(text: str) -> str:
    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in GITHUB_CONTEXT:
            pytest.fail(f"the workflow uses ${{{{ {key} }}}}, which this runner does not know")
        return GITHUB_CONTEXT[key]

    return _EXPRESSION.sub(value, text)


def _shell(command: str, cwd: Path, env: Mapping[str, str], timeout: float) -> tuple[int, str]:
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", command],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def _uses(step: Mapping[str, Any], uv_version: str) -> None:
    action = str(step["uses"])
    if action.startswith("actions/checkout"):
        return  # the job runs in a fresh clone
    if action.startswith("astral-sh/setup-uv"):
        wanted = str(step.get("with", {}).get("version", ""))
        assert wanted == uv_version, (
            f"setup-uv asks for uv {wanted!r}, this machine has {uv_version}"
        )
        return
    if action.startswith("actions/setup-python"):
        return
    pytest.fail(f"no local equivalent for `uses: {action}`; add one to tests/helpers/ci_jobs.py")


def run_github_job(
    workflow: Path, job: str, cwd: Path, env: Mapping[str, str], uv_version: str,
    timeout: float = 1200,
) -> JobRun:  # fmt: skip
    """Run one job of a GitHub Actions workflow in ``cwd``; returns every step's outcome."""
    spec = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    definition = spec["jobs"][job]
    base = {**env, **{k: str(v) for k, v in (spec.get("env") or {}).items()}}
    base |= {k: str(v) for k, v in (definition.get("env") or {}).items()}
    run = JobRun(job)
    for index, step in enumerate(definition["steps"]):
        condition = str(step.get("if", "success()")).strip()
        failed = not run.ok
        if (failed and condition not in {"failure()", "always()"}) or (
            not failed and condition == "failure()"
        ):
            continue
        name = str(step.get("name", step.get("uses", f"step {index}")))
        if "uses" in step:
            _uses(step, uv_version)
            continue
        step_env = {**base, **{k: _expand(str(v)) for k, v in (step.get("env") or {}).items()}}
        command = _expand(str(step["run"]))
        code, output = _shell(command, cwd, step_env, timeout)
        run.steps.append(StepResult(name, command, code, output))
    return run


def run_gitlab_job(
    pipeline: Path, job: str, cwd: Path, env: Mapping[str, str], timeout: float = 1200
) -> JobRun:
    """Run one job of ``.gitlab-ci.yml`` in ``cwd`` (``after_script`` always runs)."""
    spec = yaml.safe_load(pipeline.read_text(encoding="utf-8"))
    definition = spec[job]
    variables = {**(spec.get("variables") or {}), **(definition.get("variables") or {})}
    job_env = {**env, **{k: os.path.expandvars(str(v)) for k, v in variables.items()}}
    job_env["CI_PIPELINE_ID"] = "4242"
    job_env = {k: v.replace("$CI_PIPELINE_ID", "4242") for k, v in job_env.items()}
    before = definition.get("before_script", (spec.get("default") or {}).get("before_script", []))
    run = JobRun(job)
    for section in (before, definition.get("script", [])):
        for command in section:
            if not run.ok:
                break
            if _IMAGE_SETUP.match(str(command)):
                continue
            code, output = _shell(str(command), cwd, job_env, timeout)
            run.steps.append(StepResult(job, str(command), code, output))
    for command in definition.get("after_script", []):
        code, output = _shell(str(command), cwd, job_env, timeout)
        run.steps.append(StepResult(f"{job} (after)", str(command), code, output))
    return run
