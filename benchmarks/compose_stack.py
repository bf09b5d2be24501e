"""Benchmark: the compose profile beside the embedded one, measured in the same run.

For each profile: cold `strata stack up` (a fresh project: databases created and migrated,
volumes new), warm `up` (`down` then `up` of an existing project) and the stack's idle
memory as `strata stack status` reports it (process trees for embedded, `docker stats` for
the containers); for the compose profile also the images' sizes. The images are built once
first (`up --profile compose --build`, from this checkout's lock), under names of this run,
and removed by ID at the end with every container, volume and network of the run.

Needs a Docker engine with the Compose CLI (`strata doctor` says what is missing). Where no
registry answers, give a local base image in STRATA_IMAGE_BASE (see infra/README.md) and a
local copy of Prometheus's image in STRATA_PROMETHEUS_IMAGE (the kit builds none; by default
`up` pulls `prom/prometheus`).
Targets on a 2-core machine: warm up <= 30 s, idle <= 2 GiB, platform image <= 700 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from rich.console import Console
from rich.table import Table

WARM_TARGET_S = 30.0
IDLE_TARGET_MIB = 2048.0
PLATFORM_IMAGE_TARGET_MB = 700.0
ROLES = ("platform", "object-store", "postgres", "redis")


def strata(*args: str, project: Path, timeout: float = 3600) -> float:
    """Run one CLI command in the project; return its wall time (a failure stops the run)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "stratakit.cli", *args, "--project-dir", str(project)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"strata {' '.join(args)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return time.perf_counter() - started


def idle_mib(project: Path, settle_s: float) -> float:
    """The stack's total memory after it has idled a while, as `strata stack status` says."""
    time.sleep(settle_s)
    done = subprocess.run(
        [sys.executable, "-m", "stratakit.cli", "stack", "status", "--format", "json",
         "--project-dir", str(project)],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    return sum(int(row["rss_bytes"]) for row in json.loads(done.stdout)["services"]) / 2**20


def make_project(parent: Path, name: str, images: str = "") -> Path:
    """A throw-away project folder; ``images`` names the compose images to use."""
    folder = parent / name
    folder.mkdir()
    text = f'[project]\nname = "{name}"\nversion = "0"\n'
    if images:
        text += f'\n[tool.strata.stack]\nprofile = "compose"\n\n{images}\n'
    (folder / "pyproject.toml").write_text(text)
    return folder


def docker(*args: str) -> str:
    """A docker command's standard output; empty when it failed."""
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=600)
    return done.stdout.strip() if done.returncode == 0 else ""


def measure(
    parent: Path, label: str, images: str, rounds: int, cold_rounds: int, settle: float,
    console: Console,
) -> dict[str, list[float]]:  # fmt: skip
    """Cold and warm starts and idle memory of one profile."""
    figures: dict[str, list[float]] = {"cold": [], "warm": [], "idle": []}
    for index in range(cold_rounds):
        project = make_project(parent, f"{label}-cold-{index}", images)
        try:
            figures["cold"].append(strata("stack", "up", project=project))
            console.print(f"{label}: cold up {index + 1}: {figures['cold'][-1]:.1f} s")
        finally:
            strata("stack", "purge", "--yes", project=project)
    project = make_project(parent, f"{label}-warm", images)
    try:
        strata("stack", "up", project=project)
        strata("stack", "down", project=project)
        for index in range(rounds):
            figures["warm"].append(strata("stack", "up", project=project))
            figures["idle"].append(idle_mib(project, settle))
            console.print(
                f"{label}: warm up {index + 1}: {figures['warm'][-1]:.1f} s, "
                f"idle {figures['idle'][-1]:.0f} MiB"
            )
            strata("stack", "down", project=project)
    finally:
        strata("stack", "purge", "--yes", project=project)
    return figures


def main() -> None:
    """Build the images, measure both profiles, print the table, remove what was made."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="warm starts to measure")
    parser.add_argument("--cold-rounds", type=int, default=2, help="cold starts to measure")
    parser.add_argument("--settle", type=float, default=10.0, help="idle seconds before memory")
    args = parser.parse_args()
    console = Console()
    if not docker("info", "--format", "{{.ServerVersion}}"):
        sys.exit("No Docker engine answers: start one (`sudo dockerd`), then run again.")
    run = uuid.uuid4().hex[:8]
    lines = [f'{role} = "strata-bench/{role}:{run}"' for role in ROLES]
    if os.environ.get("STRATA_PROMETHEUS_IMAGE"):  # not built here: upstream's, or a copy
        lines.append(f'prometheus = "{os.environ["STRATA_PROMETHEUS_IMAGE"]}"')
    images = "[tool.strata.stack.images]\n" + "\n".join(lines)
    sizes: dict[str, float] = {}
    built: list[str] = []
    with tempfile.TemporaryDirectory(prefix="strata-bench-compose-") as tmp:
        parent = Path(tmp)
        builder = make_project(parent, "images", images)
        try:
            console.print("compose: building the images (wheelhouse from the lock, then build)")
            build_s = strata("stack", "up", "--build", project=builder)
            console.print(f"compose: images built and first up in {build_s:.0f} s")
            built = [docker("image", "inspect", "--format", "{{.Id}}",
                            f"strata-bench/{role}:{run}") for role in ROLES]  # fmt: skip
            for role in ROLES:
                size_bytes = docker("image", "inspect", "--format", "{{.Size}}",
                                    f"strata-bench/{role}:{run}")  # fmt: skip
                sizes[role] = int(size_bytes) / 1e6
        finally:
            strata("stack", "purge", "--yes", project=builder)
        try:
            embedded = measure(parent, "embedded", "", args.rounds, args.cold_rounds,
                               args.settle, console)  # fmt: skip
            compose = measure(parent, "compose", images, args.rounds, args.cold_rounds,
                              args.settle, console)  # fmt: skip
        finally:
            for image in reversed([i for i in built if i]):
                docker("rmi", "--force", image)

    table = Table(title="Profiles side by side (2-core machine figures vary; one run)")
    for column in ("measure", "embedded (median)", "compose (median)", "compose min-max",
                   "target (compose)", "met"):  # fmt: skip
        table.add_column(column)

    def row(name: str, key: str, unit: str, target: float | None) -> None:
        median = statistics.median(compose[key])
        met = "-" if target is None else ("yes" if median <= target else "NO")
        table.add_row(
            f"{name} (n={len(compose[key])})",
            f"{statistics.median(embedded[key]):.1f} {unit}",
            f"{median:.1f} {unit}",
            f"{min(compose[key]):.1f}-{max(compose[key]):.1f} {unit}",
            "-" if target is None else f"<= {target:.0f} {unit}",
            met,
        )

    row("cold up", "cold", "s", None)
    row("warm up", "warm", "s", WARM_TARGET_S)
    row("idle memory", "idle", "MiB", IDLE_TARGET_MIB)
    for role, size in sizes.items():
        target = PLATFORM_IMAGE_TARGET_MB if role == "platform" else None
        met = "-" if target is None else ("yes" if size <= target else "NO")
        table.add_row(f"image: {role}", "-", f"{size:.0f} MB", "-",
                      "-" if target is None else f"<= {target:.0f} MB", met)  # fmt: skip
    console.print(table)
    if os.environ.get("STRATA_IMAGE_BASE"):
        console.print(f"base image: {os.environ['STRATA_IMAGE_BASE']} (STRATA_IMAGE_BASE)")


if __name__ == "__main__":
    main()
