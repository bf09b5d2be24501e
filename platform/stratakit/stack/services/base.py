"""What every stack service defines: the spec it builds for a project, and its registry entry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stratakit.stack.context import StackContext


@dataclass(frozen=True)
class ServiceSpec:
    """Everything needed to run, reach, check and show one service of the stack."""

    name: str
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
    title: str = ""
    """What the service is, in a few words (filled in from its definition)."""
    forwarded: bool = True
    """Whether people open this port (a UI or an API), so dev containers forward it."""


@dataclass(frozen=True)
class ServiceDefinition:
    """A registry entry: what a service is, whatever the project, and how to build its spec."""

    name: str
    title: str
    default_port: int
    build: Callable[[StackContext], ServiceSpec]
    forwarded: bool = True
    """Whether people open this port (a UI or an API), so dev containers forward it."""
    in_containers: bool = True
    """Whether the compose and Kubernetes profiles run it as a container too (else it runs
    on the developer's machine only: the portal, served there by ``strata portal``)."""

    def spec(self, ctx: StackContext) -> ServiceSpec:
        """The service's spec for this project, carrying the definition's title and flag."""
        return replace(self.build(ctx), title=self.title, forwarded=self.forwarded)
