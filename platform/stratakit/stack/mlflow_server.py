"""``mlflow server`` in one process: ``python -m stratakit.stack.mlflow_server [ARGS]``.

MLflow's CLI prepares the stores (migrations, artifact root), then starts uvicorn as a
child process and waits for it. The waiting parent holds its own copy of MLflow (about
250 MiB) and, killed alone, leaves the child holding the port. Here the same CLI runs with
its last step changed: uvicorn serves the same application in this process, configured by
the same variables MLflow computed for its child. Should MLflow stop starting its server
that way, the hook is not installed and MLflow's own two-process start is used unchanged.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

#: ``python -m uvicorn``: the start of the command MLflow builds for its child.
_UVICORN = ("-m", "uvicorn")


def _serve_in_process(
    cmd: Sequence[str], *, extra_env: Mapping[str, str] | None = None, **_: Any
) -> NoReturn:
    """Run the uvicorn command MLflow built, in this process, then exit with its status."""
    if tuple(cmd[1:3]) != _UVICORN:  # not the command this was written for: run it as built
        os.execvpe(cmd[0], list(cmd), {**os.environ, **(extra_env or {})})  # noqa: S606
    os.environ.update(extra_env or {})
    import uvicorn.main

    try:
        uvicorn.main.main(args=list(cmd[3:]), prog_name="uvicorn")
    except SystemExit as done:
        sys.exit(done.code)
    sys.exit(0)


def main(argv: list[str]) -> None:
    """Run MLflow's ``server`` command with the in-process hook."""
    import mlflow.server
    from mlflow.cli import cli

    if hasattr(mlflow.server, "_exec_cmd"):
        mlflow.server._exec_cmd = _serve_in_process
    cli.main(args=["server", *argv], prog_name="mlflow")


if __name__ == "__main__":
    main(sys.argv[1:])
