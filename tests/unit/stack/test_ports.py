"""Port choice: the preferred port when free, else a free one, never one port twice."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from stratakit.stack.ports import choose_ports, free_port, is_port_free


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
