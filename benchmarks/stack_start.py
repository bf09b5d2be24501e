"""Benchmark: time from `strata stack up` to every service healthy, and the stack's idle memory.

Runs the real CLI in a throw-away project: a few cold starts (fresh project: databases are
created and migrated) and several warm starts (`down` then `up` of an existing project),
then reports medians. Targets on a 2-core machine: warm start <= 10 s, idle RSS <= 1 GiB.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from stratakit.processes import tree_rss
from stratakit.project import Project
from stratakit.stack import stack_status

WARM_TARGET_S = 10.0
MEMORY_TARGET_MIB = 1024.0


def strata(*args: str, project: Path) -> float:
    """Run one CLI command; return its wall time."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "stratakit.cli", *args, "--project-dir", str(project)],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def idle_rss_mib(project: Path, settle_s: float) -> float:
    """Total RSS of every service's process tree after the stack has idled a while."""
    time.sleep(settle_s)
    return sum(tree_rss(s.pid) for s in stack_status(Project(root=project)) if s.pid) / 2**20


def make_project(parent: Path, name: str) -> Path:
    """A throw-away project folder."""
    folder = parent / name
    folder.mkdir()
    (folder / "pyproject.toml").write_text(f'[project]\nname = "{name}"\nversion = "0"\n')
    return folder


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="warm starts to measure")
    parser.add_argument("--cold-rounds", type=int, default=2, help="cold starts to measure")
    parser.add_argument("--settle", type=float, default=10.0, help="idle seconds before RSS")
    args = parser.parse_args()
    console = Console()
    cold: list[float] = []
    warm: list[float] = []
    memory: list[float] = []
    with tempfile.TemporaryDirectory(prefix="strata-bench-") as tmp:
        for index in range(args.cold_rounds):
            project = make_project(Path(tmp), f"cold-{index}")
            try:
                cold.append(strata("stack", "up", project=project))
                console.print(f"cold start {index + 1}: {cold[-1]:.1f} s")
            finally:
                strata("stack", "down", project=project)
        project = make_project(Path(tmp), "warm")
        strata("stack", "up", project=project)
        strata("stack", "down", project=project)
        try:
            for index in range(args.rounds):
                warm.append(strata("stack", "up", project=project))
                memory.append(idle_rss_mib(project, args.settle))
                console.print(
                    f"warm start {index + 1}: {warm[-1]:.1f} s, idle RSS {memory[-1]:.0f} MiB"
                )
                strata("stack", "down", project=project)
        finally:
            strata("stack", "down", project=project)

    table = Table(title="strata stack up (2-core machine figures vary; compare in one run)")
    for column in ("measure", "median", "min", "max", "target", "met"):
        table.add_column(column)

    def row(name: str, values: list[float], unit: str, target: float | None) -> None:
        median = statistics.median(values)
        met = "-" if target is None else ("yes" if median <= target else "NO")
        table.add_row(
            name,
            f"{median:.1f} {unit}",
            f"{min(values):.1f} {unit}",
            f"{max(values):.1f} {unit}",
            "-" if target is None else f"<= {target:.0f} {unit}",
            met,
        )

    row(f"cold start (n={len(cold)})", cold, "s", None)
    row(f"warm start (n={len(warm)})", warm, "s", WARM_TARGET_S)
    row(f"idle memory (n={len(memory)})", memory, "MiB", MEMORY_TARGET_MIB)
    console.print(table)


if __name__ == "__main__":
    main()
