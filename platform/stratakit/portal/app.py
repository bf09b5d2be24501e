"""The portal's web app: Starlette and Jinja2, server-rendered, read-only.

``GET /`` renders every section as plain HTML tables (they work with JavaScript off);
vendored htmx refreshes each section in place and vendored uPlot draws traffic and
latency from :mod:`stratakit.portal.traffic`. The only ``POST`` is "verify", which reads
the registry, git and DVC and changes nothing. Nothing is loaded from outside the page's
own origin (a Content-Security-Policy says so), and autoescaping renders any markup in a
model description as text.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import threading
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from stratakit import __version__
from stratakit.errors import StrataError
from stratakit.portal import format as fmt
from stratakit.portal.traffic import TrafficSampler
from stratakit.portal.views import Collector, Overview, as_json

if TYPE_CHECKING:
    from stratakit.project import Project

HERE = Path(__file__).parent
SECTIONS = ("services", "models", "features", "pipelines", "monitoring")
#: The page's own origin only: no CDN, no inline script, no framing.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
#: A stored drift report is self-contained: inline styles and images, no script.
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
#: An overview younger than this is shown as it is (a page and its refreshes share it);
#: one younger than ``STALE_SECONDS`` is shown while a new one is collected behind it.
FRESH_SECONDS = 2.0
STALE_SECONDS = 15.0


@functools.cache
def static_url(name: str) -> str:
    """``/static/NAME?h=DIGEST``: a URL that changes with the file's content.

    Browsers may then keep the file for good (see :class:`_Static`).
    """
    digest = hashlib.sha256((HERE / "static" / name).read_bytes()).hexdigest()[:12]
    return f"/static/{name}?h={digest}"


class _Static(StaticFiles):
    """Static files; a request naming the content digest may be cached for a year."""

    def file_response(
        self, full_path: Any, stat_result: Any, scope: Any, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        if b"h=" in scope.get("query_string", b""):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def templates() -> Environment:
    """The Jinja2 environment: autoescaped, strict about undefined names."""
    from jinja2 import StrictUndefined

    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(fmt.FILTERS)
    env.globals["static"] = static_url
    return env


class Portal:
    """The app's state: one collector, a short-lived overview, the traffic sampler."""

    def __init__(self, project: Project, sample_seconds: float = 10.0) -> None:
        self.project = project
        self.collector = Collector(project)
        self.traffic = TrafficSampler(project, sample_seconds)
        self.env = templates()
        self._lock = threading.Lock()
        self._cached: tuple[float, Overview] | None = None
        self._refreshing = False

    def overview(self) -> Overview:
        """The newest overview, collected now only when there is none young enough.

        Younger than two seconds, it is shown as it is; younger than fifteen, it is shown
        while the next is collected in the background; older, it is collected now.

        While someone watches, the page and its refreshes are answered from memory and
        never wait for the stack; with no one watching, nothing is collected.
        """
        with self._lock:
            cached = self._cached
            age = time.monotonic() - cached[0] if cached else None
            if cached and age is not None and age < STALE_SECONDS:
                if age >= FRESH_SECONDS and not self._refreshing:
                    self._refreshing = True
                    threading.Thread(
                        target=self._refresh, name="portal-refresh", daemon=True
                    ).start()
                return cached[1]
        return self._collect()

    def _refresh(self) -> None:
        try:
            self._collect()
        finally:
            with self._lock:
                self._refreshing = False

    def _collect(self) -> Overview:
        started = time.monotonic()
        overview = self.collector.overview()
        with self._lock:
            if self._cached is None or self._cached[0] < started:
                self._cached = (started, overview)
        return overview

    def render(self, template: str, **values: Any) -> str:
        """A template with the page's common values."""
        return self.env.get_template(template).render(
            version=__version__, sections=SECTIONS, **values
        )


def allowed_hosts(environ: Mapping[str, str]) -> list[str]:
    """The names the portal answers to.

    Its loopback names, so a web page elsewhere cannot reach it by pointing a name of its
    own at 127.0.0.1 (DNS rebinding); in a Codespace also GitHub's forwarding domain, whose
    names only GitHub's proxy answers for.
    """
    hosts = ["127.0.0.1", "localhost", "::1"]
    domain = environ.get("GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN")
    if environ.get("CODESPACES") == "true" and domain:
        hosts.append(f"*.{domain}")
    return hosts


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status, headers=_SECURITY_HEADERS)


_SECURITY_HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def create_app(project: Project, sample_seconds: float = 10.0) -> Starlette:
    """The portal of ``project``'s stack."""
    portal = Portal(project, sample_seconds)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        portal.traffic.start()
        try:
            yield
        finally:
            portal.traffic.stop()
            portal.collector.close()

    async def page(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        overview = await run_in_threadpool(portal.overview)
        return _html(portal.render("page.html.j2", o=overview, verified=None))

    async def section(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        name = request.path_params["name"]
        if name not in SECTIONS:
            return PlainTextResponse(f"no section {name!r}; one of {', '.join(SECTIONS)}", 404)
        overview = await run_in_threadpool(portal.overview)
        return _html(portal.render(f"{name}.html.j2", o=overview, verified=None))

    async def overview_json(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        overview = await run_in_threadpool(portal.overview)
        return Response(as_json(overview), media_type="application/json")

    async def traffic(request: Request) -> Response:
        return JSONResponse(portal.traffic.series())

    async def verify(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        from stratakit.portal.actions import verify_version

        name, version = request.path_params["name"], request.path_params["version"]
        result = await run_in_threadpool(verify_version, project, name, version)
        if request.headers.get("HX-Request") == "true":
            return _html(portal.render("verify.html.j2", verified=result))
        overview = await run_in_threadpool(portal.overview)
        return _html(portal.render("page.html.j2", o=overview, verified=result))

    async def report(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        from stratakit.portal.actions import drift_report

        model, version = request.path_params["model"], request.path_params["version"]
        try:
            body = await run_in_threadpool(drift_report, project, model, version)
        except StrataError as exc:
            return PlainTextResponse(str(exc), 404, headers=_SECURITY_HEADERS)
        headers = {**_SECURITY_HEADERS, "Content-Security-Policy": REPORT_POLICY}
        return HTMLResponse(body, headers=headers)

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    routes = [
        Route("/", page, methods=["GET"]),
        Route("/sections/{name}", section, methods=["GET"]),
        Route("/api/overview", overview_json, methods=["GET"]),
        Route("/api/traffic", traffic, methods=["GET"]),
        Route("/models/{name}/versions/{version}/verify", verify, methods=["POST"]),
        Route("/monitoring/{model}/versions/{version}/report", report, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
        Mount("/static", _Static(directory=HERE / "static"), name="static"),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(os.environ))],
    )
