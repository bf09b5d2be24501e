"""Rate and latency per interval, from two readings of the gateway's counters."""

from __future__ import annotations

import pytest

from stratakit.monitor.status import Counters
from stratakit.portal.traffic import interval_points

KEY = ("churn", "2")


def reading(requests: int, buckets: dict[float, float]) -> Counters:
    return Counters((KEY,), {KEY: requests}, {KEY: 0}, {KEY: buckets})


def test_the_interval_counts_only_its_own_requests() -> None:
    before = reading(100, {0.005: 100, 0.01: 100, float("inf"): 100})
    # 50 more requests, all slower than 5 ms: the interval's median is in the second bucket.
    after = reading(150, {0.005: 100, 0.01: 150, float("inf"): 150})
    point = interval_points(before, after, seconds=10, at=1.0)["churn@2"]
    assert point.requests_per_second == 5.0
    # Interpolated inside the 5-10 ms bucket, as Prometheus' histogram_quantile does.
    assert point.p50_ms == pytest.approx(7.5)
    assert point.p99_ms == pytest.approx(9.95)


def test_a_restarted_gateway_starts_its_counts_again() -> None:
    before = reading(1000, {0.005: 1000, float("inf"): 1000})
    after = reading(20, {0.005: 20, float("inf"): 20})
    point = interval_points(before, after, seconds=10, at=1.0)["churn@2"]
    assert point.requests_per_second == 2.0
    assert point.p50_ms == pytest.approx(2.5)


def test_no_requests_means_no_latency() -> None:
    same = reading(7, {0.005: 7, float("inf"): 7})
    point = interval_points(same, same, seconds=10, at=1.0)["churn@2"]
    assert (point.requests_per_second, point.p50_ms, point.p99_ms) == (0.0, None, None)
