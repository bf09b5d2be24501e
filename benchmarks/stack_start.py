"""Benchmark: time from `strata stack up` to every service healthy, and the stack's idle memory.

Runs the real CLI in a throw-away project: a few cold starts (fresh project: databases are
created and migrated), several warm starts (`down` then `up` of an existing project), and
the time each service takes to be healthy again after `kill -9`; then reports medians.
Targets on a 2-core machine: warm start <= 10 s, idle RSS <= 800 MB.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from stratakit.project import Project
from stratakit.stack.context import load_context
from stratakit.stack.health import HealthProbe
from stratakit.stack.lifecycle import stack_status
from stratakit.stack.processes import tree_rss
from stratakit.stack.services import build_specs
from stratakit.stack.supervisor import SupervisorClient

WARM_TARGET_S = 10.0
MEMORY_TARGET_MIB = 800e6 / 2**20


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


def recovery_s(project: Path, limit_s: float = 120.0) -> dict[str, float]:
    """Per service: seconds from ``kill -9`` until a new process answers its health check."""
    proj = Project(root=project)
    client = SupervisorClient(proj)
    results: dict[str, float] = {}
    with HealthProbe() as probe:
        for spec in build_specs(load_context(proj)):
            old = client.processes()[spec.name].pid
            os.kill(old, signal.SIGKILL)
            killed = time.perf_counter()
            while time.perf_counter() - killed < limit_s:
                info = client.processes()[spec.name]
                if info.state == "RUNNING" and info.pid != old and probe(spec.health_url):
                    results[spec.name] = time.perf_counter() - killed
                    break
                time.sleep(0.1)
            time.sleep(3)  # let the restarted service settle before the next kill
    return results


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
    recovery: dict[str, float] = {}
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
            strata("stack", "up", project=project)
            recovery = recovery_s(project)
            console.print(
                "recovery after kill -9: "
                + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in recovery.items())
            )
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
    for name, seconds in recovery.items():
        row(f"recovery: {name}", [seconds], "s", None)
    console.print(table)


if __name__ == "__main__":
    main()
