"""Benchmark: from `strata data push` to the gateway serving the retrained version.

This is what a user of a generated project waits for. The benchmark generates the project
and starts its own stack (`uv run strata stack up`). It then runs the pipeline once,
promotes version 1 and deploys the flows. Then it changes the data (a seventh month) and
runs `strata data push`. The event starts the `retrain` flow on the stack's worker: pull,
prepare, featurize, refresh the online store, train, evaluate, and promote through the
quality gate. The clock stops when the gateway answers with version 2 (target <= 90 s).

The table breaks the wait into the worker picking the run up and each task's duration, as
Prefect recorded them. One round takes several minutes on a 2-core machine, so the
default is one round.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from stratakit.stack.processes import find_marked, terminate
from stratakit.stack.state import load_state

NAME = "bench_push"
#: What a user of a generated project should wait at most (2-core machine).
TARGET_S = 90.0
SERVE_TIMEOUT_S = 1200.0


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 1800) -> str:
    """Run a command that must succeed; return its standard output."""
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=timeout
    )
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def served_version(url: str) -> str | None:
    """The version the gateway serves, or ``None`` (not served yet, or not answering)."""
    try:
        versions = httpx.get(f"{url}/v2/models/{NAME}", timeout=5).json().get("versions", [])
    except (httpx.HTTPError, ValueError):
        return None
    return versions[0] if versions else None


def task_runs(api: str) -> list[dict[str, Any]]:
    """Task runs of the newest `retrain` flow run, in start order."""
    flows = httpx.post(
        f"{api}/flow_runs/filter",
        json={"flows": {"name": {"any_": ["retrain"]}}, "sort": "START_TIME_DESC", "limit": 1},
        timeout=10,
    ).json()
    if not flows:
        return []
    runs = httpx.post(
        f"{api}/task_runs/filter",
        json={"flow_runs": {"id": {"any_": [flows[0]["id"]]}}, "sort": "EXPECTED_START_TIME_ASC"},
        timeout=10,
    ).json()
    return [{"flow_start": flows[0]["start_time"], **task} for task in runs]


def one_round(parent: Path, env: dict[str, str], console: Console) -> dict[str, Any]:
    """Generate, run once, push new data, wait for version 2; always stops the stack."""
    uv = shutil.which("uv") or sys.exit("uv is not on PATH")
    root = parent / NAME
    strata = [uv, "run", "--locked", "strata"]
    with console.status("generating the project"):
        run([sys.executable, "-m", "stratakit.cli", "new", str(root), "--defaults"], parent, env)
    try:
        with console.status("starting its stack"):
            run([*strata, "stack", "up"], root, env)
        contract = json.loads(run([*strata, "stack", "env", "--format", "json"], root, env))
        with console.status("running the pipeline once (version 1)"):
            run([uv, "run", "--locked", "nox", "-s", "pipeline"], root, env)
            run([*strata, "model", "promote", NAME, "1", "-m", "bench"], root, env)
        with console.status("deploying the flows"):
            run([*strata, "flows", "deploy"], root, env)
        python = str(root / ".venv" / "bin" / "python")
        run([python, f"src/{NAME}/data.py", "data/raw/customers.csv", "--months", "7"], root, env)
        run([uv, "run", "--locked", "dvc", "add", "--quiet", "data/raw/customers.csv"], root, env)
        serving = contract["STRATA_SERVING_URL"]
        started = time.perf_counter()
        with console.status("strata data push, then waiting for version 2") as status:
            run([*strata, "data", "push"], root, env)
            pushed = time.perf_counter() - started
            while served_version(serving) != "2":
                waited = time.perf_counter() - started
                if waited > SERVE_TIMEOUT_S:
                    sys.exit(f"version 2 not served after {waited:.0f} s")
                status.update(f"waiting for version 2 ({waited:.0f} s)")
                time.sleep(1)
        total = time.perf_counter() - started
        tasks = task_runs(contract["PREFECT_API_URL"])
        return {"push_s": pushed, "total_s": total, "tasks": tasks}
    finally:
        with console.status("stopping the stack"):
            subprocess.run([*strata, "stack", "down"], cwd=root, env=env, check=False)
            state = load_state(root / ".strata" / "stack.json")
            if state is not None:
                terminate(find_marked(state.project_id))


def _seconds(start: str | None, end: str | None) -> float:
    if not start or not end:
        return float("nan")
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def main() -> None:
    """Measure and print the rounds; the median is the figure to quote."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    console = Console()
    env = {
        k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"}
    }
    env |= {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com"}
    env |= {"GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    totals = []
    for index in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            result = one_round(Path(tmp), env, console)
        totals.append(result["total_s"])
        table = Table(title=f"round {index + 1}: data push → version 2 served")
        table.add_column("step")
        table.add_column("seconds", justify="right")
        table.add_row("strata data push (dvc push + event)", f"{result['push_s']:.1f}")
        for task in result["tasks"]:
            table.add_row(f"  task {task['name']}", f"{task['total_run_time']:.1f}")
        if result["tasks"]:
            first = result["tasks"][0]
            flow = _seconds(first["flow_start"], result["tasks"][-1]["end_time"])
            table.add_row("  retrain flow run, start to last task", f"{flow:.1f}")
        table.add_row("[bold]push → served[/bold]", f"[bold]{result['total_s']:.1f}[/bold]")
        console.print(table)
    median = statistics.median(totals)
    verdict = "met" if median <= TARGET_S else "NOT met"
    console.print(
        f"median of {len(totals)} round(s): {median:.1f} s (target <= {TARGET_S:.0f} s: {verdict})"
    )


if __name__ == "__main__":
    main()
