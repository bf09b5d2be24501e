"""The compose profile's two environments: the containers' env file and the host's contract.

``.strata/compose.env`` (0600) gives ``infra/compose/compose.yaml`` everything it requires:
generated credentials, the host ports to publish on 127.0.0.1, the images and the project
folder. The contract (``.env``) is :func:`stratakit.stack.context.contract_for`'s, as in
the embedded profile: the same variables, the online feature store in the stack's Redis.
"""

from __future__ import annotations

import os
import re
from importlib.metadata import version
from pathlib import Path

from stratakit.contract import render
from stratakit.project import Project
from stratakit.settings.stack import IMAGE_ROLES
from stratakit.stack.context import StackContext, contract_for, redis_online_store
from stratakit.stack.files import write_atomic

#: The compose profile's published ports beyond the embedded services' (name → default).
EXTRA_PORTS = {"redis": 6379, "prometheus": 9090}
#: Host-port variables of compose.yaml, by service.
PORT_VARIABLES = {
    "object-store": "STRATA_OBJECT_STORE_PORT",
    "mlflow": "STRATA_MLFLOW_PORT",
    "prefect": "STRATA_PREFECT_PORT",
    "gateway": "STRATA_GATEWAY_PORT",
    "redis": "STRATA_REDIS_PORT",
    "prometheus": "STRATA_PROMETHEUS_PORT",
}
#: Roles whose default is a tool's own published image, not one the kit builds (the tag
#: compose.yaml and infra/prometheus/kubernetes.yaml name too).
UPSTREAM_IMAGES = {"prometheus": "prom/prometheus:v3.5.0"}
_INFRA_BUNDLED = Path(__file__).resolve().parents[2] / "infra_src"
_INFRA_CHECKOUT = Path(__file__).resolve().parents[4] / "infra"


def infra_dir(required: str = "compose/compose.yaml") -> Path:
    """``infra/`` of the kit with ``required``: the checkout's, else the installed wheel's."""
    for candidate in (_INFRA_CHECKOUT, _INFRA_BUNDLED):
        if (candidate / required).is_file():
            return candidate
    raise FileNotFoundError(f"infra/{required} is missing from this kit installation")


def default_image(role: str) -> str:
    """The ``role`` image by default: the upstream one, else the kit's build of this version."""
    return UPSTREAM_IMAGES.get(role) or f"stratakit/{role}:{version('stratakit')}"


def image_variable(role: str) -> str:
    """``object-store`` → ``STRATA_OBJECT_STORE_IMAGE``: compose.yaml's variable."""
    return f"STRATA_{role.upper().replace('-', '_')}_IMAGE"


def images(project: Project) -> dict[str, str]:
    """The image of each role: ``[tool.strata.stack.images]``, else :func:`default_image`."""
    chosen = project.settings.stack.images
    return {role: chosen.get(role, default_image(role)) for role in IMAGE_ROLES}


def compose_project_name(ctx: StackContext) -> str:
    """Compose's project name: per project (two projects' stacks never share containers)."""
    slug = re.sub(r"[^a-z0-9-]", "-", ctx.project.slug.lower()).strip("-") or "project"
    return f"strata-{slug}-{ctx.state.project_id}"


def compose_environment(ctx: StackContext) -> dict[str, str]:
    """What ``compose.yaml`` reads: credentials, host ports, images, the project's folders."""
    contract = contract_for(ctx)
    values = {
        "STRATA_BUCKET": ctx.state.bucket,
        "STRATA_S3_ACCESS_KEY": ctx.state.access_key,
        "STRATA_S3_SECRET_KEY": ctx.state.secret_key,
        "STRATA_POSTGRES_PASSWORD": ctx.state.password("postgres"),
        "STRATA_REDIS_PASSWORD": ctx.state.password("redis"),
        "STRATA_PROJECT": contract["STRATA_PROJECT"],
        "STRATA_PROJECT_DIR": str(ctx.project.root),
        "STRATA_STACK_NAME": compose_project_name(ctx),
        # The gateway reads the project's private .strata/ folder: it runs as its owner.
        "STRATA_UID": str(os.getuid()),
        "STRATA_GID": str(os.getgid()),
        "STRATA_FEATURE_REPO": contract["STRATA_FEATURE_REPO"],
        "STRATA_FEAST_REGISTRY": contract["STRATA_FEAST_REGISTRY"],
        "STRATA_FEAST_ONLINE_STORE": redis_online_store("redis", 6379, ctx.state.password("redis")),
        **{image_variable(role): ref for role, ref in images(ctx.project).items()},
        **{variable: str(ctx.port(name)) for name, variable in PORT_VARIABLES.items()},
        **ctx.project.settings.serving.environment(),
    }
    return dict(sorted(values.items()))


def compose_env_file(project: Project) -> Path:
    """Where the compose environment file lives (under the private ``.strata/``)."""
    return project.state_dir / "compose.env"


def write_compose_env(ctx: StackContext) -> Path:
    """Write the compose environment file atomically, mode 0600."""
    path = compose_env_file(ctx.project)
    write_atomic(path, render(compose_environment(ctx), "dotenv"))
    return path
