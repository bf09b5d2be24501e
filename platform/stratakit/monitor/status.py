"""``strata monitor status``: each served model's traffic, latency, errors and last drift check.

Traffic, latency and errors come from the gateway's Prometheus metrics (counted since the
gateway started; latency percentiles are interpolated inside the histogram's buckets, as
Prometheus' ``histogram_quantile`` does). The last check comes from the results
``strata monitor drift`` stores in the bucket, the version's age from the registry.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

import stratakit.http as http
from stratakit.errors import MonitoringError

_INFO = "strata_gateway_model_info"
_REQUESTS = "strata_gateway_requests_total"
_LATENCY = "strata_gateway_request_duration_seconds_bucket"


@dataclass(frozen=True)
class ModelTraffic:
    """One served version as the gateway counts it."""

    model: str
    version: str
    requests: int
    errors: int
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None

    @property
    def error_rate(self) -> float | None:
        """Share of requests answered with a 4xx or 5xx (``None`` before the first)."""
        return self.errors / self.requests if self.requests else None


def _is_error(labels: Mapping[str, str]) -> bool:
    """A request answered with a 4xx or 5xx."""
    return labels.get("code", "200")[:1] in ("4", "5")


def quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float | None:
    """``histogram_quantile``: ``q`` of cumulative ``(upper bound, count)`` buckets."""
    ordered = sorted(buckets)
    if not ordered or ordered[-1][1] == 0:
        return None
    total = ordered[-1][1]
    rank = q * total
    lower, below = 0.0, 0.0
    for bound, count in ordered:
        if count >= rank:
            if math.isinf(bound):
                return lower
            if count == below:
                return bound
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower


@dataclass(frozen=True)
class Counters:
    """The gateway's counters at one moment, per served ``(model, version)``."""

    served: tuple[tuple[str, str], ...]
    requests: Mapping[tuple[str, str], int]
    errors: Mapping[tuple[str, str], int]
    latency: Mapping[tuple[str, str], Mapping[float, float]]
    """Cumulative histogram buckets: upper bound in seconds → requests at or below it."""


def counters(text: str) -> Counters:
    """The counters in the gateway's ``/metrics`` text."""
    from prometheus_client.parser import text_string_to_metric_families

    served: list[tuple[str, str]] = []
    requests: dict[tuple[str, str], int] = defaultdict(int)
    errors: dict[tuple[str, str], int] = defaultdict(int)
    latency: dict[tuple[str, str], dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels: Mapping[str, str] = sample.labels
            key = (labels.get("model", ""), labels.get("version", ""))
            if sample.name == _INFO and sample.value == 1:
                served.append(key)
            elif sample.name == _REQUESTS:
                requests[key] += int(sample.value)
                if _is_error(labels):
                    errors[key] += int(sample.value)
            elif sample.name == _LATENCY:
                latency[key][float(labels["le"])] += sample.value
    return Counters(tuple(sorted(set(served))), requests, errors, latency)


def parse_metrics(text: str) -> list[ModelTraffic]:
    """Served versions with their counters, from the gateway's ``/metrics`` text."""
    found = counters(text)
    served, requests, errors, latency = found.served, found.requests, found.errors, found.latency
    rows = []
    for key in served:
        buckets = list(latency.get(key, {}).items())

        def ms(q: float, buckets: list[tuple[float, float]] = buckets) -> float | None:
            value = quantile(q, buckets)
            return None if value is None else value * 1000

        rows.append(
            ModelTraffic(
                key[0], key[1], requests.get(key, 0), errors.get(key, 0), ms(0.5), ms(0.9), ms(0.99)
            )
        )
    return rows


@dataclass(frozen=True)
class GatewaySummary:
    """The gateway's traffic as a whole: what `strata stack status` shows under its table."""

    requests: int
    errors: int
    requests_per_second: float | None
    """Average since the gateway started."""

    @property
    def error_rate(self) -> float | None:
        """Share of requests answered with a 4xx or 5xx."""
        return self.errors / self.requests if self.requests else None


def summarize(text: str, now: float) -> GatewaySummary:
    """Totals over every model, and the rate since the gateway started."""
    from prometheus_client.parser import text_string_to_metric_families

    requests = errors = 0
    first: float | None = None
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == _REQUESTS:
                requests += int(sample.value)
                if _is_error(sample.labels):
                    errors += int(sample.value)
            elif sample.name == "strata_gateway_start_time_seconds":
                first = sample.value
    rate = requests / max(now - first, 1.0) if first is not None else None
    return GatewaySummary(requests, errors, rate)


def metrics_text(url: str) -> str:
    """The gateway's ``/metrics``; a clear error when it does not answer."""
    try:
        answer = http.get(f"{url.rstrip('/')}/metrics", timeout=10)
        answer.raise_for_status()
    except httpx.HTTPError as exc:
        raise MonitoringError(
            f"the serving gateway at {url} did not answer ({exc}); "
            "`strata stack status` shows whether it runs."
        ) from None
    return answer.text


def gateway_summary(url: str) -> GatewaySummary | None:
    """:func:`summarize` of a running gateway (``None`` when it does not answer)."""
    import time

    try:
        return summarize(metrics_text(url), time.time())
    except MonitoringError:
        return None


def gateway_traffic(url: str) -> list[ModelTraffic]:
    """:func:`parse_metrics` of a running gateway."""
    return parse_metrics(metrics_text(url))


def age(moment: datetime | None, now: datetime | None = None) -> str:
    """``3d 4h``, ``2h 5m``, ``40s`` since ``moment`` (``-`` when unknown)."""
    if moment is None:
        return "-"
    seconds = max(int(((now or datetime.now(UTC)) - moment).total_seconds()), 0)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {seconds}s" if minutes else f"{seconds}s"


def status_rows(
    traffic: list[ModelTraffic],
    checks: Mapping[tuple[str, str], dict[str, Any] | None],
    created: Mapping[tuple[str, str], datetime | None],
) -> list[dict[str, Any]]:
    """One plain row per served version: the table and the JSON share it."""
    rows = []
    for item in traffic:
        key = (item.model, item.version)
        check = checks.get(key) or {}
        rows.append(
            {
                "model": item.model,
                "version": item.version,
                "requests": item.requests,
                "error_rate": item.error_rate,
                "p50_ms": item.p50_ms,
                "p90_ms": item.p90_ms,
                "p99_ms": item.p99_ms,
                "last_check": check.get("checked_at"),
                "verdict": check.get("verdict"),
                "drifted": check.get("drifted", []),
                "report": (check.get("stored") or {}).get("html"),
                "trained_age": age(created.get(key)),
            }
        )
    return rows
