"""Traffic and latency over time, for the portal's charts.

The gateway's Prometheus counters only grow; every ``interval`` seconds the sampler reads
them and keeps, per served version, the requests per second and the p50/p99 latency of
the requests *in that interval* (quantiles of the histogram buckets' differences). The
last hour is kept in memory; a restarted portal starts a new history (for longer ones,
the stack's Prometheus scrapes the same metrics: ``infra/prometheus``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stratakit.errors import StrataError
from stratakit.monitor.status import Counters, counters, metrics_text, quantile

if TYPE_CHECKING:
    from stratakit.project import Project

#: Points kept per series: an hour at the default interval.
KEEP = 360


@dataclass(frozen=True)
class Point:
    """One interval of one served version."""

    at: float
    requests_per_second: float
    p50_ms: float | None
    p99_ms: float | None


def interval_points(
    before: Counters, after: Counters, seconds: float, at: float
) -> dict[str, Point]:
    """Per ``model@version`` served in ``after``: the rate and latency between the two."""
    points = {}
    for key in after.served:
        done = after.requests.get(key, 0) - before.requests.get(key, 0)
        if done < 0:  # the gateway restarted: its counters began again
            done = after.requests.get(key, 0)
            old: dict[float, float] = {}
        else:
            old = dict(before.latency.get(key, {}))
        buckets = [(le, n - old.get(le, 0.0)) for le, n in after.latency.get(key, {}).items()]

        def ms(q: float, buckets: list[tuple[float, float]] = buckets) -> float | None:
            value = quantile(q, buckets)
            return None if value is None else round(value * 1000, 3)

        points[f"{key[0]}@{key[1]}"] = Point(at, round(done / seconds, 3), ms(0.5), ms(0.99))
    return points


class TrafficSampler:
    """Reads the gateway's metrics every ``interval`` seconds in a thread of its own."""

    def __init__(self, project: Project, interval: float = 10.0) -> None:
        self.project = project
        self.interval = interval
        self._series: dict[str, deque[Point]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last: tuple[float, Counters] | None = None

    def start(self) -> None:
        """Begin sampling (the first point comes one interval after the first read)."""
        self._thread = threading.Thread(target=self._run, name="portal-traffic", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def sample(self) -> None:
        """Read the counters once and add a point per served version."""
        from stratakit.stack.context import project_contract

        url = project_contract(self.project).get("STRATA_SERVING_URL")
        if not url:
            return
        now = time.time()
        current = counters(metrics_text(url))
        last, self._last = self._last, (now, current)
        if last is None or now - last[0] <= 0:
            return
        points = interval_points(last[1], current, now - last[0], now)
        with self._lock:
            for name, point in points.items():
                self._series.setdefault(name, deque(maxlen=KEEP)).append(point)

    def series(self) -> dict[str, Any]:
        """Columns per served version, as uPlot takes them: times, rate, p50, p99."""
        with self._lock:
            copied = {name: list(points) for name, points in sorted(self._series.items())}
        return {
            "interval_seconds": self.interval,
            "series": {
                name: {
                    "t": [p.at for p in points],
                    "rps": [p.requests_per_second for p in points],
                    "p50_ms": [p.p50_ms for p in points],
                    "p99_ms": [p.p99_ms for p in points],
                }
                for name, points in copied.items()
            },
        }

    def _run(self) -> None:
        while not self._stop.is_set():
            # The gateway down or restarting is the services table's news, not the sampler's.
            with contextlib.suppress(StrataError, OSError, ValueError):
                self.sample()
            self._stop.wait(self.interval)
