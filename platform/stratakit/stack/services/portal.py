"""Portal: one read-only page of the whole stack (services, models, features, pipelines).

Runs ``python -m stratakit.portal`` (Starlette on uvicorn) with the contract, like the
other services. It reads the stack through the same APIs the CLI uses, so it needs the
project's folder (``STRATA_PROJECT_DIR``) for its settings and the stack's state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stratakit.stack.services.base import ServiceDefinition, ServiceSpec

if TYPE_CHECKING:
    from stratakit.stack.context import StackContext

NAME = "portal"


def build(ctx: StackContext) -> ServiceSpec:
    """One uvicorn process on loopback; it keeps nothing on disk."""
    port = ctx.port(NAME)
    endpoint = ctx.endpoint(NAME)
    return ServiceSpec(
        name=NAME,
        port=port,
        command=(ctx.python, "-m", "stratakit.portal"),
        environment={
            "STRATA_PORTAL_HOST": "127.0.0.1",
            "STRATA_PORTAL_PORT": str(port),
            "STRATA_PROJECT_DIR": str(ctx.project.root),
        },
        url=endpoint,
        health_url=f"{endpoint}/healthz",
    )


#: The embedded stack runs it; with the compose or Kubernetes profile, ``strata portal`` serves
#: it from the developer's machine (it reads the stack through the host's contract and the
#: engine's status, which a container of it would not see).
SERVICE = ServiceDefinition(
    name=NAME, title="platform portal", default_port=8090, build=build, in_containers=False
)
