"""Health checks: a service is healthy when its health URL answers without a server error."""

from __future__ import annotations

import time
from collections.abc import Iterable
from types import TracebackType

import httpx

import stratakit.http as http
from stratakit.errors import StackNotRunningError


class HealthProbe:
    """Checks many URLs over one connection pool.

    Building an HTTP client per check costs more CPU than the check itself; while the
    stack starts, that CPU is taken from the services being waited for.
    """

    def __init__(self, timeout: float = 1.5) -> None:
        self._client = http.client(timeout=timeout)

    def __call__(self, url: str) -> bool:
        """Whether ``url`` answers with a status below 500 within the timeout."""
        try:
            response = self._client.get(url)
        except httpx.HTTPError:
            return False
        return response.status_code < 500

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()

    def __enter__(self) -> HealthProbe:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def is_healthy(url: str, timeout: float = 1.5) -> bool:
    """One-off check of ``url`` (see :class:`HealthProbe` for repeated checks)."""
    with HealthProbe(timeout) as probe:
        return probe(url)


def require_healthy(service: str, url: str, health_url: str) -> None:
    """Return at once if ``health_url`` answers; else say the stack must be started.

    Clients (MLflow, Prefect) would otherwise retry a dead server for tens of seconds.
    """
    with HealthProbe(timeout=3) as probe:
        if probe(health_url):
            return
    raise StackNotRunningError(
        f"The {service} at {url} does not answer; start it with `strata stack up`."
    )


def wait_until_answering(urls: Iterable[str], timeout: float) -> str | None:
    """Wait until every URL answers (below 500); returns the first that never did, if any."""
    deadline = time.monotonic() + timeout
    with HealthProbe(timeout=2.0) as probe:
        for url in urls:
            while not probe(url):
                if time.monotonic() > deadline:
                    return url
                time.sleep(0.25)
    return None
