"""Prometheus metrics of the gateway, in a registry of its own (no process-global state)."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from stratakit.registry.lineage import MONITOR_VERDICT_TAG

#: Latency buckets around the serving target (p99 ≤ 10 ms), up to slow generic models.
LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)


class GatewayMetrics:
    """Requests, errors, latency and rows per model version; loads, swaps and the log.

    Model labels carry only served names (an unknown name is counted as ``""``), so
    clients cannot grow the label set.
    """

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("model", "version", "protocol")
        self.requests = Counter(
            "strata_gateway_requests",
            "Inference requests by model version, protocol and HTTP status code.",
            (*labels, "code"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "strata_gateway_request_duration_seconds",
            "Time from the request body read to the response body built.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rows = Counter(
            "strata_gateway_predicted_rows",
            "Rows predicted, by model version.",
            ("model", "version"),
            registry=self.registry,
        )
        self.served = Gauge(
            "strata_gateway_model_info",
            "1 for each model version being served (fast_path: no DataFrame per request).",
            ("model", "version", "fast_path"),
            registry=self.registry,
        )
        self.loads = Counter(
            "strata_gateway_model_loads",
            "Model versions loaded (outcome=loaded) or refused (outcome=failed).",
            ("model", "outcome"),
            registry=self.registry,
        )
        self.drift = Gauge(
            "strata_gateway_model_drift",
            "1 when the last `strata monitor drift` of the served version found drift, else 0 "
            "(absent until a version is checked).",
            ("model", "version"),
            registry=self.registry,
        )
        self._drift_version: dict[str, str] = {}
        self.started = Gauge(
            "strata_gateway_start_time_seconds",
            "When the gateway started (Unix time), for rates over its lifetime.",
            registry=self.registry,
        )
        self.started.set_to_current_time()
        self.log_rows = Counter(
            "strata_gateway_prediction_log_rows",
            "Prediction log rows written to the bucket, dropped (log full) or failed.",
            ("outcome",),
            registry=self.registry,
        )

    def observe(
        self, model: str, version: str, protocol: str, code: int, seconds: float, rows: int
    ) -> None:
        """Count one request and its latency."""
        self.requests.labels(model, version, protocol, str(code)).inc()
        self.latency.labels(model, version, protocol).observe(seconds)
        if rows:
            self.rows.labels(model, version).inc(rows)

    def serving(self, model: str, version: str, fast_path: bool) -> None:
        """Mark ``version`` as the one served under ``model`` (and no other)."""
        self.unserve(model)
        self.served.labels(model, version, str(fast_path).lower()).set(1)
        self.loads.labels(model, "loaded").inc()

    def checked(self, model: str, version: str, tags: Mapping[str, str]) -> None:
        """The served version's last drift verdict, from the tag a drift check leaves."""
        verdict = tags.get(MONITOR_VERDICT_TAG)
        if verdict is None:
            return
        previous = self._drift_version.pop(model, None)
        if previous is not None and previous != version:
            self.drift.remove(model, previous)
        self.drift.labels(model, version).set(1 if verdict == "drift" else 0)
        self._drift_version[model] = version

    def unserve(self, model: str) -> None:
        """Forget every version of ``model`` in the info and drift gauges."""
        for metric in self.served.collect():
            for sample in metric.samples:
                if sample.labels.get("model") == model:
                    self.served.remove(model, sample.labels["version"], sample.labels["fast_path"])
        previous = self._drift_version.pop(model, None)
        if previous is not None:
            self.drift.remove(model, previous)

    def render(self) -> bytes:
        """The exposition text."""
        return generate_latest(self.registry)
