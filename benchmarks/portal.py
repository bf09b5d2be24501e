"""Benchmark: the portal's first paint with 20 models and 50 versions, in a real browser.

One throw-away stack (its portal is one of its services). The registry gets 20 models and
50 versions in all, with lineage tags, descriptions and a `staging` alias on each model's
newest version (not `production`, so the gateway has nothing to load). Then, each round:

1. a fresh Chromium page (Debian's, driven by Playwright) loads the portal; the browser's
   own `first-contentful-paint` and the navigation's response end are read back. The first
   round is the first load after the portal started (imports, first connections) and is
   shown apart; the medians are over the rounds after it.
2. `GET /` with httpx, for the server's share (collecting every section and rendering).

Also: the portal's resident memory, idle and after the rounds.
Target: first paint <= 300 ms. Missing it still exits 0 (this is a measurement); a setup
failure exits 1.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is not a package
from serving import SetupError, running_stack, wait_for

from stratakit.stack.profiles import stack_status

MODELS = 20
VERSIONS = 50
TARGET_MS = 300.0


def seed(tracking_uri: str, bucket: str) -> None:
    """20 models, 50 versions in all (2 or 3 each), with lineage tags and descriptions."""
    with httpx.Client(base_url=tracking_uri, timeout=30) as mlflow:
        made = 0
        for index in range(MODELS):
            name = f"bench-model-{index:02d}"
            answer = mlflow.post(
                "/api/2.0/mlflow/registered-models/create",
                json={"name": name, "description": f"Model {index}: <b>not bold</b> & co."},
            )
            answer.raise_for_status()
            count = 3 if index < VERSIONS - 2 * MODELS else 2
            for number in range(1, count + 1):
                tags = {
                    "strata.owner": f"team-{index % 4}",
                    "strata.artifact_sha256": f"{index:02d}{number:02d}".ljust(64, "0"),
                    "strata.features": "tenure,spend,tickets,plan",
                    "strata.git_commit": f"{index:04x}".ljust(40, "a"),
                    "strata.git_dirty": "false",
                    "strata.data.data/features": f"{number:032x}",
                    "strata.pipeline_run": f"run-{index}-{number}",
                    "strata.promotion.at": f"2026-12-0{number}T10:00:00+00:00",
                    "strata.promotion.reason": "benchmark",
                }
                answer = mlflow.post(
                    "/api/2.0/mlflow/model-versions/create",
                    json={
                        "name": name,
                        "source": f"s3://{bucket}/bench/{name}/{number}",
                        "tags": [{"key": k, "value": v} for k, v in tags.items()],
                    },
                )
                answer.raise_for_status()
                made += 1
            answer = mlflow.post(
                "/api/2.0/mlflow/registered-models/alias",
                json={"name": name, "alias": "staging", "version": str(count)},
            )
            answer.raise_for_status()
    if made != VERSIONS:
        raise SetupError(f"seeded {made} versions, not {VERSIONS}")


def paint(browser: object, url: str) -> tuple[float, float]:
    """(first contentful paint, response end) in ms, from a fresh page's own timings."""
    page = browser.new_page()  # type: ignore[attr-defined]
    try:
        page.goto(url, wait_until="load")
        for _ in range(40):  # the paint entry can come a little after the load event
            if page.evaluate("() => performance.getEntriesByName('first-contentful-paint').length"):
                break
            page.wait_for_timeout(50)
        found = page.evaluate(
            """() => [
                performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1,
                performance.getEntriesByType('navigation')[0].responseEnd]"""
        )
    finally:
        page.close()
    if found[0] < 0:
        raise SetupError("the browser reported no first-contentful-paint")
    return float(found[0]), float(found[1])


def rss_mb(pid: int | None) -> float:
    """Resident memory of a process, in MiB (0 when it is gone)."""
    try:
        return psutil.Process(pid).memory_info().rss / 2**20 if pid else 0.0
    except psutil.Error:
        return 0.0


def main() -> int:
    """Seed, measure, report; 1 on a setup failure, else 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    console = Console()
    console.print(
        f"[bold]{platform.node()}[/]: {psutil.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB"
    )
    executable = shutil.which("chromium")
    if executable is None:
        console.print("[red]no chromium on PATH[/]: `apt-get install chromium`, then run again")
        return 1
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="strata-bench-portal-") as scratch:
        try:
            with running_stack(Path(scratch), console) as (project, contract):
                portal = next(s for s in stack_status(project) if s.name == "portal")
                wait_for(f"{portal.url}/healthz", 60)
                idle = rss_mb(portal.pid)
                with console.status(f"seeding {MODELS} models, {VERSIONS} versions"):
                    seed(contract["MLFLOW_TRACKING_URI"], contract["STRATA_BUCKET"])
                sandbox = ["--no-sandbox"] if os.geteuid() == 0 else []
                rounds = max(args.rounds, 1) + 1
                paints: list[tuple[float, float]] = []
                server: list[float] = []
                with sync_playwright() as playwright, console.status("loading the page"):
                    browser = playwright.chromium.launch(executable_path=executable, args=sandbox)
                    try:
                        for _ in range(rounds):
                            paints.append(paint(browser, portal.url))
                            started = time.perf_counter()
                            page = httpx.get(portal.url, timeout=30)
                            server.append((time.perf_counter() - started) * 1000)
                            if page.status_code != 200 or "bench-model-19" not in page.text:
                                raise SetupError(f"the portal answered {page.status_code}")
                            time.sleep(2.5)  # past the portal's two-second overview cache
                    finally:
                        browser.close()
                after = rss_mb(portal.pid)
        except SetupError as exc:
            console.print(f"[red]setup failed:[/] {exc}")
            return 1
    first, rest = paints[0], paints[1:]
    table = Table(
        title=f"portal, {MODELS} models and {VERSIONS} versions (Chromium {len(rest)} rounds)",
        title_justify="left",
    )
    for column in ("measure", "first load", "median after", "range after"):
        table.add_column(column)
    fcp = [p[0] for p in rest]
    response = [p[1] for p in rest]
    table.add_row("first contentful paint (ms)", f"{first[0]:.0f}",
                  f"{statistics.median(fcp):.0f}", f"{min(fcp):.0f}-{max(fcp):.0f}")  # fmt: skip
    table.add_row("page received (ms)", f"{first[1]:.0f}", f"{statistics.median(response):.0f}",
                  f"{min(response):.0f}-{max(response):.0f}")  # fmt: skip
    table.add_row("GET / with httpx (ms)", f"{server[0]:.0f}",
                  f"{statistics.median(server[1:]):.0f}",
                  f"{min(server[1:]):.0f}-{max(server[1:]):.0f}")  # fmt: skip
    table.add_row("portal memory (MiB)", f"{idle:.0f} idle", f"{after:.0f} after", "-")
    console.print(table)
    median = statistics.median(fcp)
    console.print(
        f"first paint {median:.0f} ms (median; target <= {TARGET_MS:.0f} ms): "
        f"{'met' if median <= TARGET_MS else 'NOT met'}; the very first load "
        f"{first[0]:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
