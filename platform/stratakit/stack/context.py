"""A project's stack context (the project with its persistent choices) and its contract.

:func:`load_context` reads what ``strata stack up`` chose; :func:`prepare_context` makes
those choices (folders, ports, credentials); :func:`contract_for` derives the environment
contract every client of the stack is configured by.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stratakit.contract import TELEMETRY_OFF, assemble
from stratakit.errors import StackNotRunningError
from stratakit.project import Project
from stratakit.stack.files import ensure_private_dir, write_atomic
from stratakit.stack.ports import LOOPBACK, choose_ports
from stratakit.stack.services import SERVICES, build_specs
from stratakit.stack.state import StackState, load_state, new_state, save_state


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

    def kit_executable(self, name: str) -> str:
        """A command installed next to this Python (the kit's own environment), else ``name``."""
        candidate = Path(self.python).parent / name
        return str(candidate) if candidate.exists() else name


#: The compose profile's generated database passwords (kept in the 0600 state file).
COMPOSE_PASSWORDS = ("postgres", "redis")
#: Profiles whose services run in containers, with a Redis of their own and an object
#: store whose address inside their network differs from the one clients use.
CONTAINER_PROFILES = ("compose", "k8s")


def load_context(project: Project) -> StackContext:
    """The context of a project whose stack has been set up at least once."""
    state = load_state(project.state_file)
    if state is None:
        raise StackNotRunningError(
            f"The stack of {project.root} has not been set up yet; run `strata stack up` first."
        )
    missing = [name for name in SERVICES if name not in state.ports]
    if missing:
        raise StackNotRunningError(
            f"The stack of {project.root} was set up by an earlier kit, without "
            f"{', '.join(missing)}; run `strata stack up` to add it."
        )
    return StackContext(project=project, state=state, python=sys.executable)


def prepare_context(
    project: Project,
    in_use_by_us: frozenset[int] = frozenset(),
    extra_ports: Mapping[str, int] | None = None,
    profile: str = "embedded",
) -> StackContext:
    """Create or update ``.strata/`` and the state file; ports are (re)chosen here.

    Recorded ports are kept while free; ``in_use_by_us`` are ports the project's own
    running stack holds, which count as free for it. ``extra_ports`` are a profile's own
    published ports (name → preferred port); ``profile`` is recorded as the one running.
    The settings are validated before anything is written, so a mistake in them leaves no
    trace on disk.
    """
    settings = project.settings
    ensure_private_dir(project.state_dir)
    gitignore = project.state_dir / ".gitignore"
    if not gitignore.exists():
        write_atomic(
            gitignore, "# Everything here is local stack state; never commit it.\n*\n", 0o644
        )
    for folder in (project.logs_dir, project.run_dir, project.data_dir, feast_dir(project)):
        ensure_private_dir(folder)
    state = load_state(project.state_file) or new_state(project.slug, settings.bucket)
    preferred = {name: d.default_port for name, d in SERVICES.items()} | dict(extra_ports or {})
    ports = {**state.ports, **choose_ports(preferred, state.ports, in_use_by_us)}
    new_passwords = profile == "compose" and state.add_passwords(*COMPOSE_PASSWORDS)
    if (
        new_passwords
        or ports != state.ports
        or profile != state.profile
        or not project.state_file.exists()
    ):
        state.ports, state.profile = ports, profile
        save_state(project.state_file, state)
    return StackContext(project=project, state=state, python=sys.executable)


def feast_dir(project: Project) -> Path:
    """Feast's registry and SQLite online store, inside the stack's state."""
    return project.data_dir / "feast"


def redis_online_store(host: str, port: int, password: str) -> str:
    """Feast's ``online_store`` block (as JSON) for a Redis with a password."""
    return json.dumps({"type": "redis", "connection_string": f"{host}:{port},password={password}"})


def feature_store_contract(ctx: StackContext) -> dict[str, str]:
    """The contract's feature-store variables: Feast's registry, online store and repo.

    Feast runs in-process in whoever needs it (the pipeline, the gateway, ``strata
    features``), so there is no feature server: the contract names its files.
    ``STRATA_FEAST_ONLINE_STORE`` is Feast's ``online_store`` block as JSON (which is also
    YAML), so ``feature_store.yaml`` takes it whole with ``${STRATA_FEAST_ONLINE_STORE}``
    and the same file serves SQLite locally and Redis in production. The compose profile
    has a Redis of its own, used unless the project names one.
    """
    project = ctx.project
    features = project.settings.features
    if ctx.state.profile in CONTAINER_PROFILES and features.online_store is None:
        online = redis_online_store(LOOPBACK, ctx.port("redis"), ctx.state.password("redis"))
    else:
        online = json.dumps(features.online_store_block(str(feast_dir(project) / "online.db")))
    return {
        "STRATA_FEAST_REGISTRY": str(feast_dir(project) / "registry.db"),
        "STRATA_FEAST_ONLINE_STORE": online,
        "STRATA_FEATURE_REPO": str(project.root / features.repo),
    }


def contract_for(ctx: StackContext) -> dict[str, str]:
    """The full environment contract of this project's stack."""
    project_vars = {
        "STRATA_PROJECT": ctx.project.name,
        "STRATA_PROJECT_DIR": str(ctx.project.root),
        # DVC's site cache otherwise goes to a world-writable /var/tmp/dvc shared by users.
        "DVC_SITE_CACHE_DIR": str(ctx.project.state_dir / "dvc-site-cache"),
    }
    parts = [TELEMETRY_OFF, project_vars, feature_store_contract(ctx)]
    services = [spec.contract for spec in build_specs(ctx)]
    return assemble([*parts, *services, profile_contract(ctx)])


def profile_contract(ctx: StackContext) -> dict[str, str]:
    """What differs by profile beyond the ports, on the same variables.

    In containers MLflow signs presigned URLs for the store's address inside the stack's
    network, which clients on the host cannot reach: artifacts go through MLflow instead.
    """
    if ctx.state.profile not in CONTAINER_PROFILES:
        return {}
    return {
        "MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD": "false",
        "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD": "false",
    }


def project_contract(project: Project) -> dict[str, str]:
    """The contract of a project whose stack has been set up (see :func:`load_context`)."""
    return contract_for(load_context(project))
