"""Choosing loopback ports: the preferred one when free, else a free one, kept per project."""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

LOOPBACK = "127.0.0.1"


def is_port_free(port: int, host: str = LOOPBACK) -> bool:
    """Whether a TCP listener could bind ``host:port`` right now.

    ``SO_REUSEADDR`` makes connections lingering in TIME_WAIT (after a restart) not count,
    exactly as they do not for the servers, which set it too.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def free_port(host: str = LOOPBACK) -> int:
    """A port the kernel reports free on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def choose_ports(
    preferred: Mapping[str, int],
    recorded: Mapping[str, int],
    in_use_by_us: frozenset[int] = frozenset(),
) -> dict[str, int]:
    """Pick one port per service.

    A port recorded for the project is kept while it is free (or held by this project's own
    stack); otherwise the preferred default is taken if free, else any free port. The
    result never assigns one port twice.
    """
    chosen: dict[str, int] = {}
    for service, default in preferred.items():
        taken = set(chosen.values())
        candidates = [recorded.get(service), default]
        port = next(
            (
                p
                for p in candidates
                if p is not None and p not in taken and (p in in_use_by_us or is_port_free(p))
            ),
            None,
        )
        while port is None or port in taken:
            port = free_port()
        chosen[service] = port
    return chosen


def _lock_path() -> Path:
    return Path(tempfile.gettempdir()) / f"strata-{os.getuid()}-ports.lock"


@contextmanager
def ports_claimed(
    on_wait: Callable[[], None] | None = None, lock: Path | None = None
) -> Iterator[None]:
    """Hold this user's port lock while a stack chooses its ports and binds them.

    Two ``strata stack up`` started at once (two projects, two terminals) would otherwise
    both see a default port free, and the loser's health check would be answered by the
    winner's server. Held from the choice until every service answers, so the second
    ``up`` sees the first one's ports taken and chooses others. ``on_wait`` is called
    once if another stack holds the lock. ``lock`` replaces the user's lock file (for a
    check that must not wait for the user's real stacks).
    """
    with (lock or _lock_path()).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
