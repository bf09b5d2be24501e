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
from pathlib import Path
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
    _expose_metrics()
    import uvicorn.main

    try:
        uvicorn.main.main(args=list(cmd[3:]), prog_name="uvicorn")
    except SystemExit as done:
        sys.exit(done.code)
    sys.exit(0)


def _expose_metrics() -> None:
    """Turn MLflow's Prometheus exporter on, as its child process would have.

    MLflow does it when ``mlflow.server`` is first imported with ``--expose-prometheus``'s
    variable set; here that import came before MLflow computed the variable.
    """
    import mlflow.server
    from mlflow.server.constants import PROMETHEUS_EXPORTER_ENV_VAR

    if os.environ.get(PROMETHEUS_EXPORTER_ENV_VAR):
        from mlflow.server.prometheus_exporter import activate_prometheus_exporter

        activate_prometheus_exporter(mlflow.server.app)  # type: ignore[no-untyped-call]


def prepare_metrics(argv: Sequence[str]) -> None:
    """Create the ``--expose-prometheus`` folder, empty of an earlier run's files.

    MLflow creates it only after some of its modules have already created their metrics
    there (the server then dies at import). Prometheus's multiprocess mode keeps one file
    per process and metric and sums them all: left over from a process that is gone, they
    would report its counts as this one's.
    """
    if "--expose-prometheus" not in argv:
        return
    position = list(argv).index("--expose-prometheus") + 1
    if position < len(argv):
        folder = Path(argv[position])
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink(missing_ok=True)


def main(argv: list[str]) -> None:
    """Run MLflow's ``server`` command with the in-process hook."""
    import mlflow.server
    from mlflow.cli import cli

    prepare_metrics(argv)
    if hasattr(mlflow.server, "_exec_cmd"):
        mlflow.server._exec_cmd = _serve_in_process
    cli.main(args=["server", *argv], prog_name="mlflow")


if __name__ == "__main__":
    main(sys.argv[1:])
