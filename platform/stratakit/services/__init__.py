"""The stack's services: one module per service, one registry that everything iterates."""

from __future__ import annotations

from stratakit.errors import UnknownServiceError
from stratakit.services import gateway, object_store, scheduler, tracking
from stratakit.services.base import ServiceDefinition, ServiceSpec, StackContext

#: Start order is irrelevant (they start in parallel); this is the display order.
SERVICES: dict[str, ServiceDefinition] = {
    definition.name: definition
    for definition in (
        object_store.SERVICE,
        tracking.SERVICE,
        scheduler.SERVER,
        scheduler.WORKER,
        gateway.SERVICE,
    )
}


def get_service(name: str) -> ServiceDefinition:
    """Look a service up by name; the error lists the valid names."""
    try:
        return SERVICES[name]
    except KeyError:
        valid = ", ".join(SERVICES)
        raise UnknownServiceError(f"No service named '{name}'. Valid names: {valid}.") from None


def build_specs(ctx: StackContext) -> list[ServiceSpec]:
    """The spec of every service for this project."""
    return [definition.build(ctx) for definition in SERVICES.values()]


__all__ = [
    "SERVICES",
    "ServiceDefinition",
    "ServiceSpec",
    "StackContext",
    "build_specs",
    "get_service",
]
