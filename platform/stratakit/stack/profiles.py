"""The stack's profiles behind one set of operations.

``embedded`` runs local processes under supervisord, ``compose`` runs containers. ``up``
takes a profile (the project's ``[tool.strata.stack] profile`` unless given); ``down``,
``status``, ``logs`` and ``purge`` follow the profile the stack last ran with. Each profile
keeps its own data: objects, runs and models in one are not seen by the other.
"""

from __future__ import annotations

from collections.abc import Callable

from stratakit.errors import InvalidInputError
from stratakit.project import Project
from stratakit.settings import PROFILES, Profile
from stratakit.stack.lifecycle import ProgressCallback, ServiceStatus
from stratakit.stack.state import load_state


def active_profile(project: Project) -> Profile:
    """The profile the project's stack last ran with, else the configured one."""
    state = load_state(project.state_file)
    recorded = state.profile if state else project.settings.stack.profile
    return "compose" if recorded == "compose" else "embedded"


def choose_profile(project: Project, requested: str | None) -> Profile:
    """``requested`` (validated) or the project's configured profile."""
    if requested is None:
        return project.settings.stack.profile
    if requested not in PROFILES:
        raise InvalidInputError(
            f"--profile {requested!r} is not a profile; use one of: {', '.join(PROFILES)}."
        )
    return "compose" if requested == "compose" else "embedded"


def _refuse_switch_while_running(project: Project, profile: Profile) -> None:
    current = active_profile(project)
    if current == profile:
        return
    if any(row.status != "stopped" for row in stack_status(project)):
        raise InvalidInputError(
            f"The {current} stack of this project is running; stop it with `strata stack "
            f"down` before `strata stack up --profile {profile}`."
        )


def start(
    project: Project,
    profile: Profile,
    on_progress: ProgressCallback | None = None,
    build: bool = False,
    on_build_step: Callable[[str], None] | None = None,
) -> list[ServiceStatus]:
    """Bring the stack up in ``profile`` and wait until every service is healthy.

    ``build`` (compose only) builds the images from the kit's checkout first.
    """
    if build and profile != "compose":
        raise InvalidInputError("--build builds container images: use it with `--profile compose`.")
    if load_state(project.state_file) is not None:
        _refuse_switch_while_running(project, profile)
    if profile == "compose":
        from stratakit.stack.compose.lifecycle import start_compose_stack

        return start_compose_stack(project, on_progress, build, on_build_step)
    from stratakit.stack.lifecycle import start_stack

    return start_stack(project, on_progress)


def stop(project: Project) -> bool:
    """Stop the stack (data kept); whether anything was running."""
    if active_profile(project) == "compose":
        from stratakit.stack.compose.lifecycle import stop_compose_stack

        return stop_compose_stack(project)
    from stratakit.stack.lifecycle import stop_stack

    return stop_stack(project)


def stack_status(project: Project) -> list[ServiceStatus]:
    """Every service's status in the active profile."""
    if active_profile(project) == "compose":
        from stratakit.stack.compose.lifecycle import compose_status

        return compose_status(project)
    from stratakit.stack.lifecycle import stack_status as embedded_status

    return embedded_status(project)


def purge(project: Project) -> None:
    """Stop the stack and delete all its state, in the active profile."""
    if active_profile(project) == "compose":
        from stratakit.stack.compose.lifecycle import purge_compose_stack

        purge_compose_stack(project)
        return
    from stratakit.stack.lifecycle import purge_stack

    purge_stack(project)
