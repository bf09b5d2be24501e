"""Health checks against a real HTTP server: answering, failing, absent."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from stratakit.errors import StackNotRunningError
from stratakit.stack.health import HealthProbe, is_healthy, require_healthy
from stratakit.stack.ports import free_port


class _Handler(BaseHTTPRequestHandler):
    """200 on /ok, 503 everywhere else."""

    def do_GET(self) -> None:
        status = 200 if self.path == "/ok" else 503
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def server() -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a server answering 200 on /ok and 503 on /down."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def closed_url() -> str:
    return f"http://127.0.0.1:{free_port()}/ok"


def test_a_service_answering_ok_is_healthy(server: str) -> None:
    assert is_healthy(f"{server}/ok")


def test_a_service_answering_a_server_error_is_not_healthy(server: str) -> None:
    assert not is_healthy(f"{server}/down")


def test_nothing_listening_is_not_healthy(closed_url: str) -> None:
    assert not is_healthy(closed_url, timeout=1)


def test_one_probe_checks_many_urls(server: str, closed_url: str) -> None:
    with HealthProbe() as probe:
        answers = [probe(f"{server}/ok"), probe(f"{server}/down"), probe(closed_url)]
        assert probe(f"{server}/ok")
    assert answers == [True, False, False]


def test_a_healthy_service_is_required_silently(server: str) -> None:
    require_healthy("tracking server", server, f"{server}/ok")


def test_an_unhealthy_service_names_itself_and_how_to_start_it(server: str) -> None:
    with pytest.raises(StackNotRunningError) as caught:
        require_healthy("tracking server", server, f"{server}/down")
    message = str(caught.value)
    assert "tracking server" in message
    assert server in message
    assert "strata stack up" in message


def test_an_absent_service_names_itself_and_how_to_start_it(closed_url: str) -> None:
    url = closed_url.removesuffix("/ok")
    with pytest.raises(StackNotRunningError, match="strata stack up") as caught:
        require_healthy("scheduler", url, closed_url)
    assert "scheduler" in str(caught.value)
    assert url in str(caught.value)
