"""The stack's services: one module per service, one registry that everything iterates.

Each module (``object_store``, ``tracking``, ``scheduler``, ``gateway``, ``portal``) defines
the same thing: a :class:`ServiceDefinition` whose ``build`` turns a project's context into a
:class:`ServiceSpec` (command line, port, health check, data folders, the contract
variables it contributes). The supervisor, ``strata stack status`` and ``strata doctor``
only iterate over :data:`SERVICES`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stratakit.errors import UnknownServiceError
from stratakit.stack.services import gateway, object_store, portal, scheduler, tracking
from stratakit.stack.services.base import ServiceDefinition, ServiceSpec

if TYPE_CHECKING:
    from stratakit.stack.context import StackContext

#: Start order is irrelevant (they start in parallel); this is the display order.
SERVICES: dict[str, ServiceDefinition] = {
    definition.name: definition
    for definition in (
        object_store.SERVICE,
        tracking.SERVICE,
        scheduler.SERVER,
        scheduler.WORKER,
        gateway.SERVICE,
        portal.SERVICE,
    )
}

#: The services the compose and Kubernetes profiles run as containers.
CONTAINER_SERVICES: dict[str, ServiceDefinition] = {
    name: definition for name, definition in SERVICES.items() if definition.in_containers
}


def get_service(name: str) -> ServiceDefinition:
    """Look a service up by name; the error lists the valid names."""
    try:
        return SERVICES[name]
    except KeyError:
        valid = ", ".join(SERVICES)
        raise UnknownServiceError(f"No service named '{name}'. Valid names: {valid}.") from None


def build_specs(ctx: StackContext) -> list[ServiceSpec]:
    """The spec of every service the project's profile runs (containers: no portal)."""
    chosen = SERVICES if ctx.state.profile == "embedded" else CONTAINER_SERVICES
    return [definition.spec(ctx) for definition in chosen.values()]


__all__ = [
    "CONTAINER_SERVICES",
    "SERVICES",
    "ServiceDefinition",
    "ServiceSpec",
    "build_specs",
    "get_service",
]
