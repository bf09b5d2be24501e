"""What every transport of the gateway shares: finding the model, predicting, counting, logging.

The HTTP routes (:mod:`stratakit.gateway.app`) and the gRPC service
(:mod:`stratakit.gateway.oip.service`) only turn their wire format into a request body the
protocol functions validate, and call these, so both paths validate, micro-batch, count and
log a prediction the same way.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from starlette.concurrency import run_in_threadpool

from stratakit.errors import InputError
from stratakit.gateway.batching import MicroBatcher
from stratakit.gateway.inputs import Batch, InputSpec
from stratakit.gateway.loading import LoadedModel
from stratakit.gateway.metrics import GatewayMetrics
from stratakit.gateway.prediction_log import Entry, PredictionLog
from stratakit.gateway.watcher import ServedModels


@dataclass
class Gateway:
    """What the routes share."""

    served: ServedModels
    metrics: GatewayMetrics
    prediction_log: PredictionLog
    alias: str = "production"
    max_body_bytes: int = 8 * 2**20
    batchers: dict[str, tuple[LoadedModel, MicroBatcher]] = field(default_factory=dict)
    """One micro-batcher per served fast-path model, replaced with the model."""
    lookups: dict[str, tuple[LoadedModel, MicroBatcher]] = field(default_factory=dict)
    """One micro-batcher of online-feature lookups per model that has them."""


def not_served(gateway: Gateway, name: str) -> str:
    """Why ``name`` gets no answer, with the served names and how to serve it."""
    served = ", ".join(sorted(gateway.served.all())) or "none"
    return (
        f"model '{name[:100]}' is not served (served: {served}); promote a version with "
        f"`strata model promote NAME VERSION --to {gateway.alias}`"
    )


def lookup(gateway: Gateway, name: str, version: str | None = None) -> LoadedModel:
    """The served model ``name``; a 404 when it, or the ``version`` asked for, is not served."""
    model = gateway.served.get(name)
    if model is None:
        raise InputError(not_served(gateway, name), 404)
    if version is not None and version != model.version:
        raise InputError(
            f"{name} version {version[:20]} is not served; version {model.version} holds "
            f"the '{gateway.alias}' alias",
            404,
        )
    return model


async def predict(gateway: Gateway, model: LoadedModel, batch: Batch) -> Any:
    """Fast-path models run on the loop, micro-batched; others run off the event loop."""
    try:
        matrix = model.matrix(batch)
        if matrix is not None and model.fast is not None:
            return await _batcher(gateway.batchers, model, model.fast)(matrix)
        return await run_in_threadpool(model.predict, batch)
    except InputError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise InputError(f"the model rejected the input: {exc}", 422) from None


async def decode(
    gateway: Gateway,
    model: LoadedModel,
    parse: Callable[[InputSpec], tuple[Batch, str | None]],
) -> tuple[Batch, str | None]:
    """The request as the model's inputs, or as entity keys whose features Feast holds."""
    try:
        return parse(model.spec)
    except InputError as exc:
        if model.lookup is None or exc.status != 400:
            raise
        try:
            keys, request_id = parse(model.lookup.keys)
        except InputError:
            keys_named = ", ".join(model.lookup.keys.names)
            raise InputError(f"{exc}; or send only the entity key(s) {keys_named}") from None
    online = model.lookup
    matrix = online.key_matrix(keys)
    values = await _batcher(gateway.lookups, model, online.fetch)(matrix)
    return online.inputs(matrix, values, model.spec), request_id


def _batcher(
    cache: dict[str, tuple[LoadedModel, MicroBatcher]],
    model: LoadedModel,
    call: Callable[[np.ndarray], Any],
) -> MicroBatcher:
    """The model's micro-batcher for ``call``, replaced when the model is."""
    entry = cache.get(model.name)
    if entry is None or entry[0] is not model:
        entry = (model, MicroBatcher(call))
        cache[model.name] = entry
    return entry[1]


def log_prediction(
    gateway: Gateway,
    model: LoadedModel,
    request_id: str | None,
    protocol: str,
    batch: Batch,
    outputs: Any,
) -> None:
    """Queue the request and its answer for the prediction log (when it is on)."""
    if gateway.prediction_log.enabled:
        gateway.prediction_log.record(
            Entry(
                at=time.time(),
                model=model.name,
                version=model.version,
                request_id=request_id or uuid.uuid4().hex,
                protocol=protocol,
                batch=batch,
                outputs=outputs,
            )
        )


def observe(
    gateway: Gateway,
    model: LoadedModel | None,
    protocol: str,
    status: int,
    started: float,
    rows: int,
) -> None:
    """Count one request in the metrics: its model, protocol, HTTP status, time and rows."""
    name, version = (model.name, model.version) if model is not None else ("", "")
    elapsed = time.perf_counter() - started
    gateway.metrics.observe(name, version, protocol, status, elapsed, rows)
