"""What every stack service defines, and the context it is defined in."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from stratakit.ports import LOOPBACK
from stratakit.project import Project
from stratakit.state import StackState


@dataclass(frozen=True)
class StackContext:
    """A project together with its persistent stack choices."""

    project: Project
    state: StackState
    python: str = sys.executable

    def port(self, service: str) -> int:
        """The port recorded for ``service``."""
        return self.state.ports[service]

    def endpoint(self, service: str) -> str:
        """``http://127.0.0.1:PORT`` of ``service``."""
        return f"http://{LOOPBACK}:{self.port(service)}"

    def tool(self, name: str) -> str:
        """An executable installed next to this Python (the kit's own environment)."""
        candidate = Path(self.python).parent / name
        return str(candidate) if candidate.exists() else name


@dataclass(frozen=True)
class ServiceSpec:
    """Everything needed to run, reach and check one service of the stack."""

    name: str
    title: str
    port: int
    command: tuple[str, ...]
    url: str
    health_url: str
    environment: Mapping[str, str] = field(default_factory=dict)
    contract: Mapping[str, str] = field(default_factory=dict)
    directories: tuple[Path, ...] = ()
    wait_for: tuple[str, ...] = ()
    sqlite_files: tuple[Path, ...] = ()
    stop_wait_seconds: int = 10


@dataclass(frozen=True)
class ServiceDefinition:
    """A registry entry: a service's name, default port and how to build its spec."""

    name: str
    title: str
    default_port: int
    build: Callable[[StackContext], ServiceSpec]
    forwarded: bool = True
    """Whether people open this port (a UI or an API), so dev containers forward it."""
