"""The flow the stack tour deploys to the stack's work pool: a task that fails once, then passes.

The retry is real: the first attempt of ``flaky_step`` raises, Prefect retries it, and the
flow completes. The attempt counter lives in a file so it survives the retry.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from prefect import flow, task


@task(retries=2, retry_delay_seconds=0)
def flaky_step(marker: str) -> int:
    """Fail on the first attempt for ``marker``; succeed afterwards."""
    counter = Path(tempfile.gettempdir()) / f"strata-demo-{marker}.attempts"
    attempts = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(attempts))
    if attempts == 1:
        raise RuntimeError("first attempt fails on purpose; Prefect retries it")
    counter.unlink()
    return attempts


@task
def summarize(attempts: int) -> str:
    """A downstream task, so the flow is a small DAG."""
    return f"completed after {attempts} attempts in process {os.getpid()}"


@flow(name="strata-demo")
def demo_flow(marker: str = "default") -> str:
    """Run the flaky step, then summarise it."""
    return summarize(flaky_step(marker))
