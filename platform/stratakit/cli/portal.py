"""``strata portal``: the platform portal, as the stack runs it or in the foreground."""

from __future__ import annotations

from typing import Annotated

import typer

from stratakit.cli._output import ProjectDir, console
from stratakit.project import find_project


def portal_command(
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            "-p",
            min=1,
            max=65535,
            help="Serve in the foreground on this loopback port (default: the stack's portal).",
        ),
    ] = None,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the page in the default browser.")
    ] = False,
    project_dir: ProjectDir = None,
) -> None:
    """The platform portal: services, models and lineage, features, pipelines, monitoring.

    With the stack up, the portal already runs as one of its services: this prints its
    URL. With --port (or when the stack's portal does not answer), it serves the page in
    the foreground on 127.0.0.1 until Ctrl-C.
    """  # fmt: skip
    from stratakit.stack.context import load_context
    from stratakit.stack.health import HealthProbe
    from stratakit.stack.services import get_service

    project = find_project(project_dir)
    if port is None:
        spec = get_service("portal").spec(load_context(project))
        with HealthProbe(timeout=3) as probe:
            if probe(spec.health_url):
                console.print(f"The portal runs at {spec.url} (a service of the stack).")
                if open_browser:
                    typer.launch(spec.url)
                return
        port = spec.port
    from stratakit.errors import InvalidInputError
    from stratakit.portal.__main__ import serve
    from stratakit.stack.ports import is_port_free

    if not is_port_free(port):
        raise InvalidInputError(
            f"port {port} on 127.0.0.1 is in use; serve the portal on another with --port N"
        )
    url = f"http://127.0.0.1:{port}"
    console.print(f"Serving the portal of {project.name} at {url} (Ctrl-C stops it).")
    if open_browser:
        typer.launch(url)
    serve(project.root, "127.0.0.1", port)
