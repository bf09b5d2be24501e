"""``python -m stratakit.portal``: the portal as a stack service, configured by environment.

``STRATA_PROJECT_DIR`` (the project), ``STRATA_PORTAL_HOST`` (a loopback address),
``STRATA_PORTAL_PORT`` and ``STRATA_PORTAL_SAMPLE_SECONDS`` (how often traffic is sampled).
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stratakit.contract import process_environment
from stratakit.errors import InvalidInputError, StrataError


@dataclass(frozen=True)
class PortalSettings:
    """Where the portal listens and which project it shows."""

    project_dir: Path
    host: str = "127.0.0.1"
    port: int = 8090
    sample_seconds: float = 10.0

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> PortalSettings:
        """Read and check the ``STRATA_PORTAL_*`` variables (a clear error for each)."""
        host = environ.get("STRATA_PORTAL_HOST", "127.0.0.1")
        check_loopback(host)
        try:
            port = int(environ.get("STRATA_PORTAL_PORT", "8090"))
            sample = float(environ.get("STRATA_PORTAL_SAMPLE_SECONDS", "10"))
        except ValueError as exc:
            raise InvalidInputError(f"STRATA_PORTAL_PORT/SAMPLE_SECONDS: {exc}") from None
        if not 0 < port < 65536 or sample <= 0:
            raise InvalidInputError(
                "STRATA_PORTAL_PORT must be 1-65535 and STRATA_PORTAL_SAMPLE_SECONDS above 0."
            )
        project = Path(environ.get("STRATA_PROJECT_DIR") or Path.cwd())
        return cls(project, host, port, sample)


def check_loopback(host: str) -> None:
    """The portal shows credentials-bearing URLs and lineage: loopback only."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise InvalidInputError(
            f"the portal binds to loopback only, not {host!r}; use 127.0.0.1 (forward the "
            "port to reach it from elsewhere)."
        )


def serve(project_dir: Path, host: str, port: int, sample_seconds: float = 10.0) -> None:
    """Serve the portal of the project at ``project_dir`` until interrupted."""
    import uvicorn

    from stratakit.contract import exported
    from stratakit.portal.app import create_app
    from stratakit.project import find_project
    from stratakit.stack.context import project_contract

    project = find_project(project_dir)
    app = create_app(project, sample_seconds)
    # The contract for the whole process: the clients the sections use read it from there.
    with exported(project_contract(project)):
        uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")


def main(environ: Mapping[str, str] | None = None) -> int:
    """Serve until SIGTERM; returns the exit code."""
    try:
        settings = PortalSettings.from_environ(environ or process_environment())
        serve(settings.project_dir, settings.host, settings.port, settings.sample_seconds)
    except StrataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
