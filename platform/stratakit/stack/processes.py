"""Finding and stopping a stack's processes by the marker each one carries in its environment.

Every service process (and every child it forks, since the environment is inherited)
carries ``STRATA_SERVICE=<project id>:<service>``. That is how a restarted service finds
an orphan of its previous incarnation still holding its port, and how ``down`` makes sure
no child outlives its service.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import psutil

MARKER_VARIABLE = "STRATA_SERVICE"


def service_marker(project_id: str, service: str) -> str:
    """The marker value for one service of one project."""
    return f"{project_id}:{service}"


def find_marked(
    project_id: str, service: str | None = None, exclude: Iterable[int] = ()
) -> list[psutil.Process]:
    """Processes of one service of a project's stack, or of the whole stack (``service=None``)."""
    skip = {os.getpid(), *exclude}
    wanted = service_marker(project_id, service) if service else None
    prefix = f"{project_id}:"
    found: list[psutil.Process] = []
    for proc in psutil.process_iter():
        if proc.pid in skip:
            continue
        try:
            marker = proc.environ().get(MARKER_VARIABLE, "")
        except (psutil.Error, OSError):
            continue
        if marker == wanted or (wanted is None and marker.startswith(prefix)):
            found.append(proc)
    return found


def terminate(processes: list[psutil.Process], timeout: float = 5.0) -> None:
    """SIGTERM, then SIGKILL what is still alive after ``timeout`` seconds."""
    for proc in processes:
        try:
            proc.terminate()
        except psutil.Error:
            continue
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    for proc in alive:
        try:
            proc.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(alive, timeout=timeout)


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes (0 if gone)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total
