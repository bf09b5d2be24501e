"""Choosing loopback ports: the preferred one when free, else a free one, kept per project."""

from __future__ import annotations

import errno
import socket
from collections.abc import Mapping

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
