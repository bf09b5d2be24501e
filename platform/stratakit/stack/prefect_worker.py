"""The scheduler's worker, started while its server starts.

``python -m stratakit.stack.prefect_worker SERVER_HEALTH_URL [prefect worker ARGS]``
imports Prefect's worker (3-4 s of CPU) at once, then waits for the server to answer, then
runs ``prefect worker ARGS`` in this process. Waiting first and importing after, as the
plain command would, put those seconds after the server's start on every ``stack up``.
"""

from __future__ import annotations

import sys

#: How long the worker waits for its server (the stack's start timeout is longer).
SERVER_TIMEOUT_SECONDS = 120.0


def main(argv: list[str]) -> None:
    """Import the worker, wait for the server, run the worker."""
    if len(argv) < 2:
        print("usage: python -m stratakit.stack.prefect_worker HEALTH_URL worker start …",
              file=sys.stderr)  # fmt: skip
        raise SystemExit(2)
    import prefect.cli.worker
    import prefect.workers.process
    from prefect.cli import app

    from stratakit.stack.health import wait_until_answering

    del prefect.cli.worker  # imported for its cost, here rather than after the wait
    missing = wait_until_answering([argv[0]], SERVER_TIMEOUT_SECONDS)
    if missing:
        print(f"strata: gave up waiting for {missing}", file=sys.stderr, flush=True)
        raise SystemExit(1)
    sys.argv = ["prefect", *argv[1:]]  # Prefect's entry point reads its arguments there
    app()


if __name__ == "__main__":
    main(sys.argv[1:])
