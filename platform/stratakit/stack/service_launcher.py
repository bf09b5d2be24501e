"""What supervisor runs for each service: ``python -m stratakit.stack.service_launcher ROOT NAME``.

It removes any orphan of the service's previous incarnation (a child that survived a
``kill -9`` of its parent still holds the port), creates the service's folders, waits for
the services it needs, then replaces itself with the service's real command, so that
supervisor's PID is the service's own and process-group signals reach every child.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
from pathlib import Path

from stratakit.contract import child_environment
from stratakit.project import Project
from stratakit.stack.context import contract_for, load_context
from stratakit.stack.health import wait_until_answering
from stratakit.stack.processes import MARKER_VARIABLE, find_marked, service_marker, terminate
from stratakit.stack.services import get_service

DEPENDENCY_TIMEOUT_SECONDS = 120.0


def _check_sqlite(path: Path) -> None:
    """Fail at once, with the reason, when a database cannot be opened.

    Servers retry a broken database for minutes with backoff; this turns that into an
    immediate exit that ``strata stack up`` reports with the log tail.
    """
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=5)) as conn:
            conn.execute("PRAGMA schema_version").fetchone()
    except sqlite3.Error as exc:
        print(f"strata: cannot open database {path}: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from exc


def main(argv: list[str]) -> None:
    """Prepare and exec one service."""
    if len(argv) != 2:
        print("usage: python -m stratakit.stack.service_launcher PROJECT_ROOT SERVICE",
              file=sys.stderr)  # fmt: skip
        raise SystemExit(2)
    ctx = load_context(Project(root=Path(argv[0])))
    spec = get_service(argv[1]).spec(ctx)
    marker = service_marker(ctx.state.project_id, spec.name)
    orphans = find_marked(ctx.state.project_id, spec.name, exclude=[os.getppid()])
    if orphans:
        print(f"strata: stopping {len(orphans)} orphaned process(es) of {spec.name}", flush=True)
        terminate(orphans, timeout=2.0)
    for folder in spec.directories:
        folder.mkdir(parents=True, exist_ok=True)
    for database in spec.sqlite_files:
        _check_sqlite(database)
    missing = wait_until_answering(spec.wait_for, DEPENDENCY_TIMEOUT_SECONDS)
    if missing:
        print(f"strata: gave up waiting for {missing}", file=sys.stderr, flush=True)
        raise SystemExit(1)
    env = child_environment(
        contract_for(ctx), {**spec.environment, MARKER_VARIABLE: marker, "PYTHONUNBUFFERED": "1"}
    )
    print(f"strata: starting {spec.name} on 127.0.0.1:{spec.port}", flush=True)
    os.execvpe(spec.command[0], list(spec.command), env)  # noqa: S606 (no shell, on purpose)


if __name__ == "__main__":
    main(sys.argv[1:])
