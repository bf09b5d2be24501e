"""What every stack service defines: the spec it builds for a project, and its registry entry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stratakit.stack.context import StackContext


@dataclass(frozen=True)
class ServiceSpec:
    """Everything needed to run, reach, check and show one service of the stack."""

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
    forwarded: bool = True
    """Whether people open this port (a UI or an API), so dev containers forward it."""


@dataclass(frozen=True)
class ServiceDefinition:
    """A registry entry: a service's name, default port and how to build its spec."""

    name: str
    default_port: int
    build: Callable[[StackContext], ServiceSpec]
