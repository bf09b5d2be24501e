"""The scheduler's REST API (Prefect's ``/api``), spoken with httpx for what only reads.

``strata flows list`` reads deployments, queues, automations and runs; Prefect's client
would cost 1.5-4 s of imports per command for calls that take milliseconds. Writes
(deploying flows, starting runs) keep Prefect's own client.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx

import stratakit.http as http
from stratakit.errors import SchedulerAPIError


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 timestamp of Prefect's API (``None`` when absent)."""
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


class SchedulerAPI:
    """JSON reads from a Prefect server; use as a context manager."""

    def __init__(self, api_url: str, environ: Mapping[str, str], timeout: float = 30.0) -> None:
        headers = {}
        if environ.get("PREFECT_API_KEY"):
            headers["Authorization"] = f"Bearer {environ['PREFECT_API_KEY']}"
        auth = None
        if environ.get("PREFECT_API_AUTH_STRING"):
            user, _, password = environ["PREFECT_API_AUTH_STRING"].partition(":")
            auth = httpx.BasicAuth(user, password)
        self.url = api_url.rstrip("/")
        self._http = http.client(base_url=self.url, headers=headers, auth=auth, timeout=timeout)

    def __enter__(self) -> SchedulerAPI:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._http.close()

    def get(self, path: str) -> Any:
        """``GET path`` as JSON."""
        return self._json(lambda: self._http.get(path), path)

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        """``POST path`` (a filter query) as JSON."""
        return self._json(lambda: self._http.post(path, json=dict(body)), path)

    def _json(self, call: Any, path: str) -> Any:
        try:
            answer: httpx.Response = call()
        except httpx.HTTPError as exc:
            raise SchedulerAPIError(
                f"The scheduler at {self.url} did not answer {path}: {exc}"
            ) from None
        if answer.status_code >= 400:
            raise SchedulerAPIError(
                f"The scheduler at {self.url} answered {answer.status_code} to {path}: "
                f"{answer.text[:200]}"
            )
        return answer.json()
