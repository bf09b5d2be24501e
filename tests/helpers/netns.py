"""A network namespace of a test's own: its loopback only, as inside a container.

A stack started in it gets its default ports whatever runs on the machine (other tests'
stacks included), and nothing in it can reach the network. Needs root; removed afterwards.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        pytest.fail(f"ip {' '.join(args)} failed: {done.stderr.strip()}")


@contextmanager
def network_namespace() -> Iterator[list[str]]:
    """The command prefix that runs a command inside a fresh namespace (``ip netns exec``)."""
    if os.geteuid() != 0:
        pytest.fail("a network namespace needs root (ip netns add)")
    name = f"strata-test-{uuid.uuid4().hex[:8]}"
    _ip("netns", "add", name)
    try:
        _ip("-n", name, "link", "set", "lo", "up")
        yield ["ip", "netns", "exec", name]
    finally:
        subprocess.run(["ip", "netns", "delete", name], capture_output=True, timeout=30)
