"""Finding a stack's processes by their environment marker, measuring and stopping them."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator

import pytest

from stratakit.stack.processes import (
    MARKER_VARIABLE,
    find_marked,
    service_marker,
    terminate,
    tree_rss,
)


@pytest.fixture
def project_id() -> str:
    """A fresh id, so concurrent test runs never see each other's processes."""
    return secrets.token_hex(4)


@pytest.fixture
def child(project_id: str) -> Iterator[subprocess.Popen[bytes]]:
    """A sleeping process marked as this project's 'mlflow' service."""
    env = {**os.environ, MARKER_VARIABLE: service_marker(project_id, "mlflow")}
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], env=env)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_a_service_process_is_found_by_project_and_by_service(
    project_id: str, child: subprocess.Popen[bytes]
) -> None:
    assert [p.pid for p in find_marked(project_id)] == [child.pid]
    assert [p.pid for p in find_marked(project_id, "mlflow")] == [child.pid]


def test_other_services_and_other_projects_do_not_match(
    project_id: str, child: subprocess.Popen[bytes]
) -> None:
    assert find_marked(project_id, "gateway") == []
    assert find_marked(secrets.token_hex(4)) == []
    assert find_marked(project_id[:-1]) == []
    assert find_marked(project_id, exclude=[child.pid]) == []


def test_the_memory_of_a_running_process_is_measured(child: subprocess.Popen[bytes]) -> None:
    assert tree_rss(child.pid) > 0


def test_a_process_that_is_gone_measures_zero(child: subprocess.Popen[bytes]) -> None:
    child.kill()
    child.wait(timeout=10)
    assert tree_rss(child.pid) == 0


def test_terminate_ends_the_found_processes(
    project_id: str, child: subprocess.Popen[bytes]
) -> None:
    terminate(find_marked(project_id), timeout=5)
    assert child.poll() is not None
    assert find_marked(project_id) == []


def test_terminate_kills_a_process_that_ignores_sigterm(project_id: str) -> None:
    env = {**os.environ, MARKER_VARIABLE: service_marker(project_id, "gateway")}
    code = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        terminate(find_marked(project_id, "gateway"), timeout=0.5)
        assert proc.poll() is not None
    finally:
        proc.kill()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
