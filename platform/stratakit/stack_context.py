"""Loading (or creating) a project's stack context and deriving its environment contract."""

from __future__ import annotations

import sys

from stratakit.contract import TELEMETRY_OFF, assemble
from stratakit.errors import StackNotRunningError
from stratakit.feature_store import feature_store_contract
from stratakit.files import ensure_private_dir, write_atomic
from stratakit.ports import choose_ports
from stratakit.project import Project
from stratakit.services import SERVICES, StackContext, build_specs
from stratakit.state import load_state, new_state, save_state


def load_context(project: Project) -> StackContext:
    """The context of a project whose stack has been set up at least once."""
    state = load_state(project.state_file)
    if state is None or set(state.ports) != set(SERVICES):
        raise StackNotRunningError(
            f"The stack of {project.root} has not been set up yet; run `strata stack up` first."
        )
    return StackContext(project=project, state=state, python=sys.executable)


def prepare_context(project: Project, in_use_by_us: frozenset[int] = frozenset()) -> StackContext:
    """Create or update ``.strata/`` and the state file; ports are (re)chosen here.

    Recorded ports are kept while free; ``in_use_by_us`` are ports the project's own
    running stack holds, which count as free for it.
    """
    ensure_private_dir(project.state_dir)
    gitignore = project.state_dir / ".gitignore"
    if not gitignore.exists():
        write_atomic(
            gitignore, "# Everything here is local stack state; never commit it.\n*\n", 0o644
        )
    for folder in (project.logs_dir, project.run_dir, project.data_dir, project.data_dir / "feast"):
        ensure_private_dir(folder)
    state = load_state(project.state_file) or new_state(project.slug, project.bucket)
    preferred = {name: d.default_port for name, d in SERVICES.items()}
    ports = choose_ports(preferred, state.ports, in_use_by_us)
    if ports != state.ports or not project.state_file.exists():
        state.ports = ports
        save_state(project.state_file, state)
    return StackContext(project=project, state=state, python=sys.executable)


def contract_for(ctx: StackContext) -> dict[str, str]:
    """The full environment contract of this project's stack."""
    project_vars = {
        "STRATA_PROJECT": ctx.project.name,
        "STRATA_PROJECT_DIR": str(ctx.project.root),
        # DVC's site cache otherwise goes to a world-writable /var/tmp/dvc shared by users.
        "DVC_SITE_CACHE_DIR": str(ctx.project.state_dir / "dvc-site-cache"),
    }
    parts = [TELEMETRY_OFF, project_vars, feature_store_contract(ctx.project)]
    return assemble([*parts, *(spec.contract for spec in build_specs(ctx))])
