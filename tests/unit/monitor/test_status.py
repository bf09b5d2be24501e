"""Traffic, errors and latency percentiles read from the gateway's real metrics text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stratakit.gateway.metrics import GatewayMetrics
from stratakit.monitor.status import age, parse_metrics, quantile, summarize


def test_quantiles_interpolate_inside_buckets_like_prometheus() -> None:
    buckets = [(0.001, 10.0), (0.01, 90.0), (0.1, 100.0), (float("inf"), 100.0)]
    assert quantile(0.5, buckets) == pytest.approx(0.001 + 0.009 * (50 - 10) / 80)
    assert quantile(0.99, buckets) == pytest.approx(0.01 + 0.09 * 0.9)
    assert quantile(0.5, [(float("inf"), 0.0)]) is None


def test_the_gateway_metrics_give_requests_errors_and_latency_per_served_version() -> None:
    metrics = GatewayMetrics()
    metrics.served.labels("churn", "3", "true").set(1)
    metrics.served.labels("churn", "2", "true").set(0)
    for code, count in (("200", 95), ("400", 4), ("500", 1)):
        metrics.requests.labels("churn", "3", "v2", code).inc(count)
    for _ in range(100):
        metrics.latency.labels("churn", "3", "v2").observe(0.0015)
    [row] = parse_metrics(metrics.render().decode())
    assert (row.model, row.version, row.requests, row.errors) == ("churn", "3", 100, 5)
    assert row.error_rate == pytest.approx(0.05)
    assert row.p50_ms is not None and 1.0 < row.p50_ms <= 2.0
    assert row.p99_ms is not None and row.p99_ms <= 2.0


def test_ages_read_like_people_say_them() -> None:
    now = datetime(2026, 1, 2, tzinfo=UTC)
    assert age(now - timedelta(days=3, hours=4, minutes=5), now) == "3d 4h"
    assert age(now - timedelta(minutes=7, seconds=3), now) == "7m 3s"
    assert age(None, now) == "-"


def test_the_drift_verdict_tag_becomes_a_gauge_of_the_served_version_only() -> None:
    metrics = GatewayMetrics()
    metrics.checked("churn", "3", {"strata.monitor.verdict": "drift"})
    metrics.checked("other", "1", {"strata.lineage": "no verdict yet"})
    assert 'strata_gateway_model_drift{model="churn",version="3"} 1.0' in metrics.render().decode()
    assert 'model="other"' not in metrics.render().decode()
    metrics.checked("churn", "4", {"strata.monitor.verdict": "ok"})
    text = metrics.render().decode()
    assert 'strata_gateway_model_drift{model="churn",version="4"} 0.0' in text
    assert 'version="3"' not in text
    metrics.unserve("churn")
    assert "strata_gateway_model_drift{" not in metrics.render().decode()


def test_the_gateway_summary_totals_every_model_and_averages_the_rate() -> None:
    metrics = GatewayMetrics()
    metrics.requests.labels("churn", "3", "v2", "200").inc(90)
    metrics.requests.labels("other", "1", "mlflow", "503").inc(10)
    text = metrics.render().decode()
    [created] = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("strata_gateway_start_time_seconds ")
    ]
    summary = summarize(text, now=created + 20)
    assert (summary.requests, summary.errors) == (100, 10)
    assert summary.error_rate == pytest.approx(0.1)
    assert summary.requests_per_second == pytest.approx(5.0, rel=0.01)
    assert summarize("", now=0).requests_per_second is None
