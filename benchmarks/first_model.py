"""Benchmark: time to the first served model, then how fast each `strata` command answers.

Part one is what a new user waits for, the demo's path: `strata new`, `uv run strata stack
up`, `uv run nox -s pipeline`, `strata model promote`, then the first prediction from the
gateway. Part two runs each read command of the CLI several times against that project's
stack (the project's own `.venv/bin/strata`, as after `uv sync`) and, side by side in the
same run, the equivalent call through the tool's own Python client (what the commands did
before they spoke REST or read Feast's registry file), so the ratio is measured, not
recalled. Targets on a 2-core machine: first model <= 180 s, the stack with the model
served <= 1.1 GB; `--help`, `stack status`,
`stack env` <= 0.6 s; `model list|describe`, `features list|show`, `flows list` <= 3 s;
`model verify|promote` <= 5 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

NAME = "bench_first"
#: 1.1 GB, the target for the whole stack serving one small scikit-learn model.
MEMORY_TARGET_MIB = 1.1e9 / 2**20
MODEL = NAME

#: (command, target seconds) — the read commands and the alias moves.
COMMANDS: list[tuple[list[str], float]] = [
    (["--help"], 0.6),
    (["stack", "status"], 0.6),
    (["stack", "env"], 0.6),
    (["model", "list"], 3.0),
    (["model", "describe", f"{MODEL}@production"], 3.0),
    (["features", "list"], 3.0),
    (["features", "show", "customer_features"], 3.0),
    (["flows", "list"], 3.0),
    (["model", "verify", f"{MODEL}/1"], 5.0),
    (["model", "promote", MODEL, "1", "--to", "bench", "-m", "bench"], 5.0),
]

#: The same questions through each tool's own client, as the commands asked them before.
SDK_PATHS = {
    "model list": "from mlflow import MlflowClient; c = MlflowClient()\n"
    "[c.search_model_versions(f\"name = '{m.name}'\") for m in c.search_registered_models()]",
    "features list": "import os; from feast import FeatureStore\n"
    "FeatureStore(repo_path=os.environ['STRATA_FEATURE_REPO']).list_feature_views()",
    "flows list": "from prefect.client.orchestration import get_client\n"
    "with get_client(sync_client=True) as c: c.read_deployments()",
}


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 1800) -> float:
    """Run a command that must succeed; return its wall time."""
    started = time.perf_counter()
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=timeout
    )
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def first_prediction(url: str, limit_s: float = 300.0) -> None:
    """Wait until the gateway serves the model, then score one customer by id alone."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/v2/models/{MODEL}", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    answer = httpx.post(
        f"{url}/models/{MODEL}/invocations",
        json={"dataframe_records": [{"customer_id": "C00001"}]},
        timeout=30,
    )
    if answer.status_code != 200:
        sys.exit(f"the gateway answered {answer.status_code}: {answer.text[:300]}")


def time_to_first_model(root: Path, env: dict[str, str]) -> dict[str, float]:
    """Each step of the path from nothing to a served prediction."""
    uv = shutil.which("uv") or sys.exit("uv is not on PATH")
    steps = {
        "strata new (lock, byte-compiled env, DVC, git)": run(
            [sys.executable, "-m", "stratakit.cli", "new", str(root), "--defaults"],
            root.parent,
            env,
        ),
        "uv run strata stack up (first start)": run(
            [uv, "run", "--locked", "strata", "stack", "up"], root, env
        ),
        "uv run nox -s pipeline": run([uv, "run", "--locked", "nox", "-s", "pipeline"], root, env),
        "strata model promote": run(
            [str(root / ".venv/bin/strata"), "model", "promote", MODEL, "1", "-m", "bench"],
            root,
            env,
        ),
    }
    contract = _contract(root, env)
    started = time.perf_counter()
    first_prediction(contract["STRATA_SERVING_URL"])
    steps["gateway loads it; first prediction"] = time.perf_counter() - started
    return steps


def served_memory_mib(root: Path, env: dict[str, str], settle_s: float = 10.0) -> float:
    """The whole stack's resident memory with the model served, after it settles."""
    import json

    time.sleep(settle_s)
    done = subprocess.run(
        [str(root / ".venv/bin/strata"), "stack", "status", "--format", "json"],
        cwd=root, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return sum(row["rss_bytes"] for row in json.loads(done.stdout)["services"]) / 2**20


def _contract(root: Path, env: dict[str, str]) -> dict[str, str]:
    import json

    done = subprocess.run(
        [str(root / ".venv/bin/strata"), "stack", "env", "--format", "json"],
        cwd=root, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    contract: dict[str, str] = json.loads(done.stdout)
    return contract


def latencies(root: Path, env: dict[str, str], rounds: int) -> dict[str, list[float]]:
    """Wall times of each command, ``rounds`` times, interleaved with their SDK paths."""
    strata = str(root / ".venv/bin/strata")
    python = str(root / ".venv/bin/python")
    sdk_env = {**env, **_contract(root, env)}
    found: dict[str, list[float]] = {}
    for _ in range(rounds):
        for args, _target in COMMANDS:
            found.setdefault(" ".join(args[:2]), []).append(run([strata, *args], root, env))
        for name, code in SDK_PATHS.items():
            found.setdefault(f"sdk: {name}", []).append(run([python, "-c", code], root, sdk_env))
    return found


def report(
    console: Console, steps: dict[str, float], memory: float, found: dict[str, list[float]]
) -> None:
    """The two tables."""
    first = Table(title="from nothing to the first prediction (2-core machine)")
    first.add_column("step")
    first.add_column("seconds", justify="right")
    for step, seconds in steps.items():
        first.add_row(step, f"{seconds:.1f}")
    total = sum(steps.values())
    first.add_row("[bold]time to first model[/bold] (target <= 180 s)", f"[bold]{total:.1f}[/bold]")
    console.print(first)
    verdict = "met" if memory <= MEMORY_TARGET_MIB else "NOT met"
    console.print(
        f"stack memory with the model served: {memory:.0f} MiB "
        f"(target <= {MEMORY_TARGET_MIB:.0f} MiB: {verdict})"
    )
    table = Table(title="strata commands against a running stack (median of the rounds)")
    for column in ("command", "median", "target", "met", "via the tool's client", "ratio"):
        table.add_column(column, justify="left" if column == "command" else "right")
    for args, target in COMMANDS:
        key = " ".join(args[:2])
        median = statistics.median(found[key])
        sdk = found.get(f"sdk: {key}")
        sdk_median = statistics.median(sdk) if sdk else None
        table.add_row(
            "strata " + " ".join(args[:3]),
            f"{median:.2f} s",
            f"<= {target:g} s",
            "yes" if median <= target else "NO",
            f"{sdk_median:.2f} s" if sdk_median else "-",
            f"{sdk_median / median:.0f}x" if sdk_median else "-",
        )
    console.print(table)


def main() -> None:
    """Generate, measure, stop the stack (always)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs of each command")
    args = parser.parse_args()
    console = Console()
    env = {
        k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"}
    }
    env |= {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com"}
    env |= {"GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    with tempfile.TemporaryDirectory(prefix="strata-bench-") as tmp:
        root = Path(tmp) / NAME
        try:
            with console.status("from nothing to the first prediction…"):
                steps = time_to_first_model(root, env)
                memory = served_memory_mib(root, env)
            with console.status("deploying the flows, then timing each command…"):
                run([str(root / ".venv/bin/strata"), "flows", "deploy"], root, env)
                found = latencies(root, env, args.rounds)
        finally:
            if (root / ".venv/bin/strata").exists():
                subprocess.run([str(root / ".venv/bin/strata"), "stack", "down"], cwd=root,
                               env=env, capture_output=True, check=False)  # fmt: skip
    report(console, steps, memory, found)


if __name__ == "__main__":
    main()
