"""Closed-loop HTTP/1.1 load generator for serving benchmarks on a small, shared machine.

Each of ``concurrency`` workers owns one keep-alive connection and sends its next POST as soon
as the previous response has been read in full, until a shared budget of requests is spent.
It speaks HTTP over plain asyncio streams (uvloop when installed) rather than through an HTTP
client library, so the generator takes little of the CPU the server under test needs::

    python benchmarks/loadgen.py --url http://127.0.0.1:8080/v2/models/m/infer \
        --body-file request.json --concurrency 8 --requests 5000 --warmup 200

Extra request headers (``--header Inference-Header-Content-Length:123``) go on every request,
e.g. for the Open Inference Protocol's binary tensor data extension.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import math
import string
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

_HEAD_END = b"\r\n\r\n"
_CRLF = b"\r\n"
_HEX_DIGITS = frozenset(string.hexdigits.encode())
_NO_BODY_STATUSES = frozenset({204, 304})
_CLOSE_WAIT_S = 1.0


class _ProtocolError(Exception):
    """The server's bytes are not a response this client understands."""


@dataclass(frozen=True)
class LoadResult:
    """One measured run; warmup requests are in none of the counts.

    ``requests`` always equals the number asked for: every request ends either with a
    response (any status) or as a transport error (status 0, counted in ``errors``).
    """

    concurrency: int
    requests: int
    errors: int
    elapsed_s: float
    latencies_s: list[float]
    statuses: dict[int, int]

    def throughput(self) -> float:
        """Successful (2xx) requests per second of the measured phase; 0.0 if it took no time."""
        if self.elapsed_s <= 0:
            return 0.0
        return len(self.latencies_s) / self.elapsed_s

    def percentile_ms(self, q: float) -> float:
        """Latency in ms of successful requests at percentile ``q`` (0-100), NaN if none.

        Exact, by linear interpolation between the two nearest samples (numpy's default and
        ``statistics.quantiles(method="inclusive")``), so any ``q`` such as 99.9 works.
        """
        if not 0 <= q <= 100:
            raise ValueError(f"percentile must be within 0..100, not {q}")
        if not self.latencies_s:
            return math.nan
        ordered = sorted(self.latencies_s)
        position = (len(ordered) - 1) * q / 100
        low = math.floor(position)
        high = min(low + 1, len(ordered) - 1)
        value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
        return value * 1000


@dataclass(frozen=True)
class _Target:
    """Where to connect and the exact bytes of the request, built once for the whole run."""

    host: str
    port: int
    request: bytes


def _target(
    url: str, body: bytes, content_type: str, headers: Mapping[str, str] | None = None
) -> _Target:
    """Parse ``url`` (http only) and prebuild the POST request with ``body``."""
    extra = dict(headers or {})
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"expected an http://host[:port]/path URL, not {url!r}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    authority = parts.netloc.rpartition("@")[2]
    checked = (path, authority, content_type, *extra, *extra.values())
    if any(c in value for value in checked for c in "\r\n"):
        raise ValueError("line breaks are not allowed in the URL, content type or headers")
    if any(not name or ":" in name for name in extra):
        raise ValueError("a header name must be non-empty and without ':'")
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: {authority}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in extra.items())
        + "\r\n"
    )
    return _Target(parts.hostname, parts.port or 80, head.encode("ascii") + body)


class _Connection:
    """One worker's keep-alive connection: opened on first use, reopened after a close."""

    def __init__(self, target: _Target) -> None:
        self.target = target
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.target.host, self.target.port
            )
        return self.reader, self.writer

    def close(self) -> asyncio.StreamWriter | None:
        """Start closing the socket (if any) and return its writer so callers can await it."""
        writer = self.writer
        self.reader = self.writer = None
        if writer is not None:
            writer.close()
        return writer


async def _exchange(conn: _Connection) -> int:
    """Send the request and read the whole response; return its status code.

    A reused connection the server closed while we were not looking (idle timeout, request
    limit) shows up as a reset or EOF before any response byte: that is retried once on a
    fresh connection, as browsers and HTTP clients do. Anything else raises.
    """
    for attempt in range(2):
        reused = conn.writer is not None
        reader, writer = await conn.open()
        try:
            writer.write(conn.target.request)
            await writer.drain()
            head = await reader.readuntil(_HEAD_END)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            conn.close()
            got_bytes = isinstance(exc, asyncio.IncompleteReadError) and bool(exc.partial)
            if reused and attempt == 0 and not got_bytes:
                continue
            raise
        status, keep_alive = await _read_rest(reader, head)
        if not keep_alive:
            conn.close()
        return status
    raise AssertionError("unreachable: the second attempt returns or raises")


def _parse_head(head: bytes) -> tuple[int, bool, dict[bytes, bytes]]:
    """Status code, whether the response is HTTP/1.1, and the headers we act on (lower-case)."""
    lines = head[: -len(_HEAD_END)].split(_CRLF)
    version, _, rest = lines[0].partition(b" ")
    if version not in (b"HTTP/1.1", b"HTTP/1.0") or not rest[:3].isdigit():
        raise _ProtocolError(f"bad status line {lines[0][:80]!r}")
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            raise _ProtocolError(f"bad header line {line[:80]!r}")
        name = name.strip().lower()
        value = value.strip()
        if name in headers:
            if name == b"content-length" and headers[name] != value:
                raise _ProtocolError("conflicting Content-Length headers")
            value = headers[name] + b", " + value
        headers[name] = value
    return int(rest[:3]), version == b"HTTP/1.1", headers


async def _read_rest(reader: asyncio.StreamReader, head: bytes) -> tuple[int, bool]:
    """Consume the body that follows ``head`` (skipping 1xx interim responses).

    Returns the final status and whether the connection may carry another request.
    """
    status, http11, headers = _parse_head(head)
    while 100 <= status < 200:
        if status == 101:
            raise _ProtocolError("the server switched protocols")
        status, http11, headers = _parse_head(await reader.readuntil(_HEAD_END))
    tokens = {t.strip() for t in headers.get(b"connection", b"").lower().split(b",")}
    keep_alive = b"close" not in tokens if http11 else b"keep-alive" in tokens
    codings = headers.get(b"transfer-encoding", b"").lower().split(b",")
    if status in _NO_BODY_STATUSES:
        pass
    elif codings[-1].strip() == b"chunked":
        await _read_chunked(reader)
    elif b"transfer-encoding" in headers:
        await reader.read()  # a body that is not chunked-framed runs to the close
        keep_alive = False
    elif b"content-length" in headers:
        length = headers[b"content-length"]
        if not length.isdigit():
            raise _ProtocolError(f"bad Content-Length {length[:40]!r}")
        await reader.readexactly(int(length))
    else:
        await reader.read()
        keep_alive = False
    return status, keep_alive


async def _read_chunked(reader: asyncio.StreamReader) -> None:
    """Consume a chunked body, its chunk extensions and trailer fields."""
    while True:
        line = await reader.readuntil(_CRLF)
        size = line[: -len(_CRLF)].split(b";", 1)[0].strip()
        if not size or not _HEX_DIGITS.issuperset(size):
            raise _ProtocolError(f"bad chunk size line {line[:40]!r}")
        length = int(size, 16)
        if length == 0:
            break
        chunk = await reader.readexactly(length + len(_CRLF))
        if not chunk.endswith(_CRLF):
            raise _ProtocolError("chunk not followed by CRLF")
    while await reader.readuntil(_CRLF) != _CRLF:
        pass


class _Budget:
    """Requests left to send in a phase, shared by all workers (one event loop: no lock)."""

    def __init__(self, total: int) -> None:
        self.left = total

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


@dataclass
class _Tally:
    """Outcomes of one phase."""

    count: int = 0
    errors: int = 0
    latencies_s: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def add(self, status: int, latency_s: float) -> None:
        self.count += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if 200 <= status < 300:
            self.latencies_s.append(latency_s)
        else:
            self.errors += 1


async def _worker(conn: _Connection, budget: _Budget, tally: _Tally, timeout_s: float) -> None:
    """Closed loop: one request at a time on ``conn`` until the budget is spent."""
    while budget.take():
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout_s):
                status = await _exchange(conn)
        except (OSError, EOFError, ValueError, asyncio.LimitOverrunError, _ProtocolError):
            # OSError covers refused/reset connections and TimeoutError; EOFError a premature
            # close; ValueError an unparsable number. The next request reconnects.
            conn.close()
            status = 0
        tally.add(status, time.perf_counter() - started)


async def _phase(conns: list[_Connection], requests: int, timeout_s: float) -> _Tally:
    budget = _Budget(requests)
    tally = _Tally()
    await asyncio.gather(*(_worker(conn, budget, tally, timeout_s) for conn in conns))
    return tally


async def _run(
    target: _Target, *, concurrency: int, requests: int, warmup: int, timeout_s: float
) -> LoadResult:
    conns = [_Connection(target) for _ in range(concurrency)]
    try:
        if warmup:
            await _phase(conns, warmup, timeout_s)
        started = time.perf_counter()
        tally = await _phase(conns, requests, timeout_s)
        elapsed_s = time.perf_counter() - started
    finally:
        writers = [w for w in (conn.close() for conn in conns) if w is not None]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_CLOSE_WAIT_S):
                await asyncio.gather(*(w.wait_closed() for w in writers), return_exceptions=True)
    return LoadResult(
        concurrency=concurrency,
        requests=tally.count,
        errors=tally.errors,
        elapsed_s=elapsed_s,
        latencies_s=tally.latencies_s,
        statuses=tally.statuses,
    )


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The uvloop event loop when it is installed (cheaper per request), else asyncio's."""
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run_load(
    url: str,
    body: bytes,
    *,
    concurrency: int,
    requests: int,
    content_type: str = "application/json",
    headers: Mapping[str, str] | None = None,
    warmup: int = 0,
    timeout_s: float = 10.0,
) -> LoadResult:
    """POST ``body`` to ``url`` ``requests`` times over ``concurrency`` keep-alive connections.

    ``headers`` go with every request. ``warmup`` requests go first and are not measured.
    Each request (connecting included) is bounded by ``timeout_s``; a timeout or transport
    failure is an error with status 0, so the call always returns. Runs its own event
    loop: call it from synchronous code.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")
    if requests < 0 or warmup < 0:
        raise ValueError("requests and warmup cannot be negative")
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be positive, not {timeout_s}")
    target = _target(url, body, content_type, headers)
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(
            _run(
                target,
                concurrency=concurrency,
                requests=requests,
                warmup=warmup,
                timeout_s=timeout_s,
            )
        )


def _summary(result: LoadResult) -> str:
    statuses = ",".join(f"{code}:{n}" for code, n in sorted(result.statuses.items()))
    return (
        f"concurrency={result.concurrency} requests={result.requests} errors={result.errors}"
        f" elapsed={result.elapsed_s:.2f}s throughput={result.throughput():.1f}/s"
        f" p50={result.percentile_ms(50):.2f}ms p90={result.percentile_ms(90):.2f}ms"
        f" p99={result.percentile_ms(99):.2f}ms statuses={statuses or '-'}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one load test from the command line; exit status 1 if any request failed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="http://host:port/path to POST to")
    payload = parser.add_mutually_exclusive_group()
    payload.add_argument("--body-file", type=Path, help="file whose bytes are the request body")
    payload.add_argument("--body", default="", help="request body as a (UTF-8) string")
    parser.add_argument("--content-type", default="application/json")
    parser.add_argument(
        "--header", action="append", default=[], help="NAME:VALUE sent with every request"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="connections (workers)")
    parser.add_argument("--requests", type=int, default=1000, help="measured requests")
    parser.add_argument("--warmup", type=int, default=0, help="unmeasured requests sent first")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    args = parser.parse_args(argv)
    body: bytes = args.body_file.read_bytes() if args.body_file else args.body.encode()
    headers = {}
    for header in args.header:
        name, colon, value = header.partition(":")
        if not colon:
            parser.error(f"--header {header!r}: expected NAME:VALUE")
        headers[name.strip()] = value.strip()
    try:
        result = run_load(
            args.url,
            body,
            concurrency=args.concurrency,
            requests=args.requests,
            content_type=args.content_type,
            headers=headers,
            warmup=args.warmup,
            timeout_s=args.timeout,
        )
    except ValueError as exc:
        parser.error(str(exc))
    print(_summary(result))
    return 0 if result.errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
