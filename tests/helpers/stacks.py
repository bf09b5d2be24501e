"""Real stacks for end-to-end tests: started in temporary projects, stopped and checked by PID."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass

import psutil

from stratakit.project import Project
from stratakit.stack.context import contract_for, load_context
from stratakit.stack.lifecycle import start_stack, stop_stack
from stratakit.stack.ports import free_port
from stratakit.stack.processes import find_marked
from stratakit.stack.services import SERVICES, gateway
from stratakit.stack.state import new_state, save_state

from . import guard


@dataclass
class RunningStack:
    project: Project
    contract: dict[str, str]

    @property
    def bucket(self) -> str:
        return self.contract["STRATA_BUCKET"]

    def env(self) -> dict[str, str]:
        """A clean client environment: PATH and HOME plus the contract, nothing else."""
        base = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
        return {**base, **self.contract}

    def python(self, code: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run client code in a fresh interpreter configured by the contract alone."""
        result = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            env=self.env(),
            cwd=self.project.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result


def use_random_ports(project: Project) -> None:
    """Record free random ports, so the default ports stay free for tests that need them."""
    state = new_state(project.slug, project.bucket)
    extra = gateway.extra_ports(project.settings.serving)
    state.ports = {name: free_port() for name in (*SERVICES, *extra)}
    save_state(project.state_file, state)


def launch(project: Project) -> RunningStack:
    """Start the project's stack (only from a test marked e2e) and read its contract."""
    guard.require_e2e("starts a stack")
    start_stack(project)
    return RunningStack(project=project, contract=contract_for(load_context(project)))


def shut_down(project: Project) -> None:
    """Stop the stack and prove by PID that nothing of it is left."""
    stop_stack(project)
    ctx = load_context(project)
    leftovers = find_marked(ctx.state.project_id)
    for proc in leftovers:
        proc.kill()
    assert not leftovers, [p.pid for p in leftovers]
    daemons = [
        p
        for p in psutil.process_iter(["cmdline"])
        if str(project.root) in " ".join(p.info["cmdline"] or [])
        and "supervisord" in " ".join(p.info["cmdline"] or [])
    ]
    assert not daemons
