"""Port choice: the preferred port when free, else a free one, never one port twice."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stratakit.stack.ports import choose_ports, free_port, is_port_free, ports_claimed


@pytest.fixture
def listener() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def test_a_listening_port_is_not_free(listener: int) -> None:
    assert not is_port_free(listener)


def test_preferred_port_is_taken_when_free() -> None:
    port = free_port()
    assert choose_ports({"svc": port}, {}) == {"svc": port}


def test_taken_preferred_port_falls_back_to_a_free_one(listener: int) -> None:
    chosen = choose_ports({"svc": listener}, {})
    assert chosen["svc"] != listener
    assert is_port_free(chosen["svc"])


def test_recorded_port_is_kept_over_the_default() -> None:
    recorded, default = free_port(), free_port()
    assert choose_ports({"svc": default}, {"svc": recorded}) == {"svc": recorded}


def test_recorded_port_held_by_our_own_stack_is_kept(listener: int) -> None:
    chosen = choose_ports({"svc": 1}, {"svc": listener}, in_use_by_us=frozenset({listener}))
    assert chosen == {"svc": listener}


def test_no_port_is_given_twice() -> None:
    port = free_port()
    chosen = choose_ports({"a": port, "b": port, "c": port}, {})
    assert len(set(chosen.values())) == 3


def test_a_second_stack_waits_until_the_first_has_bound_its_ports(tmp_path: Path) -> None:
    # A lock of its own: stacks that other tests start meanwhile take the user's lock.
    lock = tmp_path / "ports.lock"
    events: list[str] = []

    def second() -> None:
        with ports_claimed(lambda: events.append("waiting"), lock):
            events.append("claimed")

    with ports_claimed(lock=lock):
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.3)
        assert events == ["waiting"]  # blocked while the first holds the claim
    thread.join(timeout=10)
    assert events == ["waiting", "claimed"]
