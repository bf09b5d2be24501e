"""Health checks: a service is healthy when its health URL answers without a server error."""

from __future__ import annotations

import httpx


def is_healthy(url: str, timeout: float = 1.5) -> bool:
    """Whether ``url`` answers with a status below 500 within ``timeout`` seconds."""
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError:
        return False
    return response.status_code < 500
