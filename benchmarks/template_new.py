"""Benchmark: time from `strata new` to a green `nox -s tests` in the new project.

One unmeasured warm-up round fills uv's cache (and builds the kit's wheel); the measured
rounds then run with a warm cache, as on a developer's machine. Target on a 2-core
machine: <= 60 s in total.
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

from rich.console import Console
from rich.table import Table

TOTAL_TARGET_S = 60.0


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Run a command that must succeed; return its wall time."""
    started = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def one_round(parent: Path, index: int, env: dict[str, str]) -> tuple[float, float]:
    """Generate a project and run its tests; returns (new, tests) seconds."""
    uv = shutil.which("uv") or sys.exit("uv is not on PATH")
    dest = parent / f"project-{index}"
    new = timed(
        [sys.executable, "-m", "stratakit.cli", "new", str(dest), "--defaults",
         "--data", f"project_name=Bench {index}"],
        parent, env,
    )  # fmt: skip
    tests = timed([uv, "run", "--locked", "nox", "-s", "tests"], dest, env)
    return new, tests


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds")
    args = parser.parse_args()
    console = Console()
    # A user's shell: not this session's virtualenv (nox points uv at it otherwise).
    env = {
        k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"}
    }
    env["UV_PYTHON_DOWNLOADS"] = "never"
    news: list[float] = []
    tests: list[float] = []
    with tempfile.TemporaryDirectory(prefix="strata-bench-new-") as tmp:
        one_round(Path(tmp), 0, env)
        console.print("warm-up round done (uv cache filled)")
        for index in range(1, args.rounds + 1):
            new, test = one_round(Path(tmp), index, env)
            news.append(new)
            tests.append(test)
            console.print(f"round {index}: strata new {new:.1f} s + nox -s tests {test:.1f} s")
    totals = [a + b for a, b in zip(news, tests, strict=True)]
    table = Table(title="strata new → green nox -s tests (warm uv cache, 2-core machine)")
    for column in ("measure", "median", "min", "max", "target", "met"):
        table.add_column(column)
    for name, values, target in (
        ("strata new (render, lock, sync, DVC, commit)", news, None),
        ("nox -s tests (venv from the lock + pytest)", tests, None),
        ("total", totals, TOTAL_TARGET_S),
    ):
        median = statistics.median(values)
        table.add_row(
            f"{name} (n={len(values)})",
            f"{median:.1f} s",
            f"{min(values):.1f} s",
            f"{max(values):.1f} s",
            "-" if target is None else f"<= {target:.0f} s",
            "-" if target is None else ("yes" if median <= target else "NO"),
        )
    console.print(table)


if __name__ == "__main__":
    main()
