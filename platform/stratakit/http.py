"""HTTP clients for the stack's APIs, sharing one TLS context.

httpx builds a TLS context for every new client by loading the CA bundle from disk: ~30 ms
of CPU each time, more than a request to a local server. Commands and the portal open a
few clients per call, so they share one context, built on first use (certifi's bundle, as
httpx's default with ``trust_env=False``, which every client here uses).
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS context every client shares (built once per process)."""
    return httpx.create_ssl_context(trust_env=False)


def client(**options: Any) -> httpx.Client:
    """An ``httpx.Client`` that ignores proxy variables and shares :func:`tls_context`."""
    return httpx.Client(verify=tls_context(), trust_env=False, **options)


def get(url: str, timeout: float) -> httpx.Response:
    """One GET with a short-lived client (see :func:`client`)."""
    with client(timeout=timeout) as http:
        return http.get(url)
