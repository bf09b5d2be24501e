"""The serving benchmark's load generator against a real (tiny, threaded) HTTP/1.1 server."""

from __future__ import annotations

import importlib.util
import math
import socket
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

import pytest

from ...helpers.projects import KIT_ROOT

pytestmark = pytest.mark.timeout(60)

LOADGEN = KIT_ROOT / "benchmarks" / "loadgen.py"
PAYLOAD = b'{"inputs": [1, 2, 3]}'


def load_loadgen() -> ModuleType:
    """benchmarks/ is a folder of scripts, not a package: load the module from its path."""
    name = "stratakit_bench_loadgen"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, LOADGEN)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


loadgen = load_loadgen()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless a response says otherwise
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        server: Server = self.server  # type: ignore[assignment]
        with server.lock:
            server.connections += 1

    def do_POST(self) -> None:
        server: Server = self.server  # type: ignore[assignment]
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with server.lock:
            server.posts += 1
        if body != PAYLOAD or self.headers["Content-Type"] != "application/json":
            self.reply(400, b"unexpected request")
        elif self.path == "/fail":
            self.reply(500, b'{"error": "boom"}')
        elif self.path == "/close":
            self.reply(200, b'{"ok": true}', close=True)
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            # A chunk extension, an upper-case hex size, and a trailer field.
            self.wfile.write(b'3;ext=1\r\n{"o\r\n')
            self.wfile.write(b'1A\r\nk": true, "pad": "xxxxxx"}\r\n')
            self.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")
        elif self.path == "/drop":
            # Closes after answering without saying so, as a server's idle timeout would.
            self.reply(200, b'{"ok": true}')
            self.close_connection = True
        elif self.path == "/garbled":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"zz\r\nnot hex\r\n0\r\n\r\n")
        else:
            self.reply(200, b'{"outputs": [0.5]}')

    def reply(self, status: int, body: bytes, *, close: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.posts = 0
        self.connections = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture(autouse=True, params=["uvloop-if-installed", "asyncio"])
def event_loop_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run each test on uvloop (when installed) and on asyncio's loop, its fallback."""
    if request.param == "asyncio":
        monkeypatch.setattr(loadgen, "_loop_factory", lambda: None)
    return str(request.param)


@pytest.fixture
def server() -> Iterator[Server]:
    httpd = Server()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def run(url: str, **kwargs: Any) -> Any:
    kwargs.setdefault("timeout_s", 5.0)
    return loadgen.run_load(url, PAYLOAD, **kwargs)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_counts_every_request_over_keep_alive(server: Server, concurrency: int) -> None:
    result = run(server.base_url + "/infer", concurrency=concurrency, requests=40, warmup=5)
    assert result.requests == 40
    assert result.errors == 0
    assert result.statuses == {200: 40}
    assert len(result.latencies_s) == 40
    assert result.concurrency == concurrency
    assert server.posts == 45  # warmup requests are sent, just not measured
    assert server.connections == concurrency  # one keep-alive connection per worker
    assert result.throughput() > 0
    assert 0 < result.percentile_ms(50) <= result.percentile_ms(99)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_non_2xx_responses_are_errors(server: Server, concurrency: int) -> None:
    result = run(server.base_url + "/fail", concurrency=concurrency, requests=20)
    assert (result.requests, result.errors, result.statuses) == (20, 20, {500: 20})
    assert result.latencies_s == []
    assert result.throughput() == 0
    assert math.isnan(result.percentile_ms(99))
    assert server.connections == concurrency  # a 500 with a body does not cost the connection


@pytest.mark.parametrize("concurrency", [1, 4])
def test_chunked_bodies_are_read_in_full(server: Server, concurrency: int) -> None:
    result = run(server.base_url + "/chunked", concurrency=concurrency, requests=20)
    assert (result.requests, result.errors, result.statuses) == (20, 0, {200: 20})
    # Had a body been left unread, the next response on the connection would not parse.
    assert server.connections == concurrency


def test_connection_close_reconnects(server: Server) -> None:
    result = run(server.base_url + "/close", concurrency=2, requests=10)
    assert (result.requests, result.errors, result.statuses) == (10, 0, {200: 10})
    assert server.connections == 10


def test_a_silently_closed_keep_alive_connection_is_retried(server: Server) -> None:
    result = run(server.base_url + "/drop", concurrency=2, requests=10)
    assert (result.requests, result.errors, result.statuses) == (10, 0, {200: 10})
    assert server.posts == 10  # only requests the server never saw are sent again


def test_a_malformed_response_is_an_error(server: Server) -> None:
    result = run(server.base_url + "/garbled", concurrency=2, requests=6)
    assert (result.requests, result.errors, result.statuses) == (6, 6, {0: 6})


def test_nothing_listening_is_an_error_and_returns_quickly() -> None:
    # A bound socket that never listens: the port stays ours, and connecting is refused.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        started = time.monotonic()
        result = run(f"http://127.0.0.1:{port}/infer", concurrency=4, requests=12, warmup=2)
    assert time.monotonic() - started < 3
    assert (result.requests, result.errors, result.statuses) == (12, 12, {0: 12})


def test_a_server_that_never_answers_times_out() -> None:
    # Listening but never accepting: the kernel completes the handshake, nobody replies.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        port = sock.getsockname()[1]
        started = time.monotonic()
        result = run(f"http://127.0.0.1:{port}/infer", concurrency=2, requests=4, timeout_s=0.2)
    assert time.monotonic() - started < 2
    assert (result.requests, result.errors, result.statuses) == (4, 4, {0: 4})


def test_percentiles_interpolate_exactly() -> None:
    result = loadgen.LoadResult(
        concurrency=1,
        requests=4,
        errors=0,
        elapsed_s=2.0,
        latencies_s=[0.004, 0.001, 0.003, 0.002],
        statuses={200: 4},
    )
    assert result.throughput() == 2.0
    assert result.percentile_ms(0) == pytest.approx(1.0)
    assert result.percentile_ms(50) == pytest.approx(2.5)
    assert result.percentile_ms(100) == pytest.approx(4.0)
    assert result.percentile_ms(99) == pytest.approx(3.97)
    with pytest.raises(ValueError, match="percentile"):
        result.percentile_ms(101)


def test_rejects_what_it_cannot_send() -> None:
    with pytest.raises(ValueError, match="http://"):
        loadgen.run_load("https://127.0.0.1/x", b"", concurrency=1, requests=1)
    with pytest.raises(ValueError, match="concurrency"):
        loadgen.run_load("http://127.0.0.1/x", b"", concurrency=0, requests=1)


def test_main_prints_a_summary(server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--url", server.base_url + "/infer", "--body", PAYLOAD.decode()]
    assert loadgen.main([*argv, "--concurrency", "2", "--requests", "6"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("concurrency=2 requests=6 errors=0 ")
    assert "statuses=200:6" in line
