"""The ASGI app: routes that move bytes between HTTP and the pure protocol functions.

``create_app`` takes everything it uses (the served models, metrics, the prediction log),
so a test can build one around models it loaded itself.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stratakit import __version__
from stratakit.errors import InputError
from stratakit.gateway import binary, openapi, protocols
from stratakit.gateway.batching import MicroBatcher
from stratakit.gateway.inputs import Batch, InputSpec
from stratakit.gateway.loading import LoadedModel
from stratakit.gateway.metrics import GatewayMetrics
from stratakit.gateway.prediction_log import Entry, PredictionLog
from stratakit.gateway.watcher import ServedModels

log = logging.getLogger("stratakit.gateway")
JSON = "application/json"


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


def create_app(
    gateway: Gateway,
    on_startup: Callable[[], None] = lambda: None,
    on_shutdown: Callable[[], None] = lambda: None,
) -> Starlette:
    """The Starlette app serving ``gateway``; the hooks start and stop background work."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        on_startup()
        try:
            yield
        finally:
            on_shutdown()

    metadata = _model_view(
        gateway,
        lambda model: protocols.v2_model_metadata(model, gateway.served.refused.get(model.name)),
    )
    routes = [
        Route("/v2/health/live", _live(), methods=["GET"]),
        Route("/v2/health/ready", _ready(gateway), methods=["GET"]),
        Route("/ping", _ready(gateway), methods=["GET"]),
        Route("/health", _ready(gateway), methods=["GET"]),
        Route("/v2", _server_metadata(gateway), methods=["GET"]),
        Route("/v2/models/{name}", metadata, methods=["GET"]),
        Route("/v2/models/{name}/versions/{version}", metadata, methods=["GET"]),
        Route("/v2/models/{name}/ready", _model_view(gateway, _readiness), methods=["GET"]),
        Route(
            "/v2/models/{name}/versions/{version}/ready",
            _model_view(gateway, _readiness),
            methods=["GET"],
        ),
        Route("/v2/models/{name}/infer", _infer_v2(gateway), methods=["POST"]),
        Route("/v2/models/{name}/versions/{version}/infer", _infer_v2(gateway), methods=["POST"]),
        Route("/invocations", _invocations(gateway), methods=["POST"]),
        Route("/models/{name}/invocations", _invocations(gateway), methods=["POST"]),
        Route("/metrics", _metrics(gateway), methods=["GET"]),
        Route("/openapi.json", _openapi(gateway), methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


Endpoint = Callable[[Request], Any]


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(protocols.dumps(payload), status, headers=headers, media_type=JSON)


def _live() -> Endpoint:
    async def live(request: Request) -> Response:
        return _json({"live": True})

    return live


def _ready(gateway: Gateway) -> Endpoint:
    async def ready(request: Request) -> Response:
        # The Open Inference Protocol answers "not ready" with a 4xx, not a 5xx.
        ok = gateway.served.ready
        return _json({"ready": ok, "models": sorted(gateway.served.all())}, 200 if ok else 400)

    return ready


def _server_metadata(gateway: Gateway) -> Endpoint:
    async def metadata(request: Request) -> Response:
        return _json(
            {
                "name": "stratakit-gateway",
                "version": __version__,
                "extensions": list(protocols.EXTENSIONS),
                "alias": gateway.alias,
                "models": {n: m.version for n, m in sorted(gateway.served.all().items())},
                **_refusals(dict(gateway.served.refused)),
            }
        )

    return metadata


def _refusals(refused: dict[str, tuple[str, str]]) -> dict[str, dict[str, str]]:
    """The versions the gateway refused to serve, and why.

    ``refused`` is a copy: the registry watcher updates the original from its own thread.
    """
    ordered = sorted(refused.items())
    return {
        "refused": {name: version for name, (version, _) in ordered},
        "refused_reasons": {name: reason for name, (_, reason) in ordered},
    }


def _not_served(gateway: Gateway, name: str) -> str:
    served = ", ".join(sorted(gateway.served.all())) or "none"
    return (
        f"model '{name[:100]}' is not served (served: {served}); promote a version with "
        f"`strata model promote NAME VERSION --to {gateway.alias}`"
    )


def _lookup(gateway: Gateway, request: Request) -> LoadedModel:
    name = request.path_params["name"]
    model = gateway.served.get(name)
    if model is None:
        raise InputError(_not_served(gateway, name), 404)
    version = request.path_params.get("version")
    if version is not None and version != model.version:
        raise InputError(
            f"{name} version {version[:20]} is not served; version {model.version} holds "
            f"the '{gateway.alias}' alias",
            404,
        )
    return model


def _model_view(gateway: Gateway, render: Callable[[LoadedModel], Any]) -> Endpoint:
    """A GET about one served model: 404 with the served names when there is none."""

    async def view(request: Request) -> Response:
        try:
            model = _lookup(gateway, request)
        except InputError as exc:
            return _json({"error": str(exc)}, exc.status)
        return _json(render(model))

    return view


def _readiness(model: LoadedModel) -> dict[str, Any]:
    return {"name": model.name, "version": model.version, "ready": True}


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise InputError("Content-Length is not a number")
        if int(declared) > limit:
            raise InputError(
                f"the body has {declared} bytes, over the {limit}-byte limit; send smaller "
                "batches (or raise STRATA_GATEWAY_MAX_BODY_BYTES)",
                413,
            )
        return await request.body()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InputError(f"the body is over the {limit}-byte limit; send smaller batches", 413)
        chunks.append(chunk)
    return b"".join(chunks)


async def _predict(gateway: Gateway, model: LoadedModel, batch: Batch) -> Any:
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


async def _decode(
    gateway: Gateway,
    model: LoadedModel,
    decode: Callable[[InputSpec], tuple[Batch, str | None]],
) -> tuple[Batch, str | None]:
    """The request as the model's inputs, or as entity keys whose features Feast holds."""
    try:
        return decode(model.spec)
    except InputError as exc:
        if model.lookup is None or exc.status != 400:
            raise
        try:
            keys, request_id = decode(model.lookup.keys)
        except InputError:
            keys_named = ", ".join(model.lookup.keys.names)
            raise InputError(f"{exc}; or send only the entity key(s) {keys_named}") from None
    lookup = model.lookup
    matrix = lookup.key_matrix(keys)
    values = await _batcher(gateway.lookups, model, lookup.fetch)(matrix)
    return lookup.inputs(matrix, values, model.spec), request_id


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


def _infer_v2(gateway: Gateway) -> Endpoint:
    async def infer(request: Request) -> Response:
        started = time.perf_counter()
        model: LoadedModel | None = None
        rows = 0
        # Metrics and the log tell the two forms apart: binary in or out, or JSON only.
        protocol = "v2" if request.headers.get(binary.HEADER) is None else "v2-binary"
        try:
            model = _lookup(gateway, request)
            body = await _read_body(request, gateway.max_body_bytes)
            v2 = protocols.v2_request(body, request.headers.get(binary.HEADER))
            batch, request_id = await _decode(
                gateway, model, lambda spec: protocols.v2_batch(spec, v2.body)
            )
            outputs = await _predict(gateway, model, batch)
            encoded = protocols.v2_response(model, outputs, request_id, v2.outputs)
            rows = batch.rows
        except InputError as exc:
            status, response = exc.status, _json({"error": str(exc)}, exc.status)
        else:
            status, response = 200, _v2_encoded(model, encoded)
            if encoded.header_length is not None:
                protocol = "v2-binary"
            _log_prediction(gateway, model, request_id, protocol, batch, outputs)
        _observe(gateway, model, protocol, status, started, rows)
        return response

    return infer


def _v2_encoded(model: LoadedModel, encoded: protocols.Encoded) -> Response:
    headers = _model_headers(model)
    if encoded.header_length is None:
        return Response(encoded.body, 200, headers=headers, media_type=JSON)
    headers["Inference-Header-Content-Length"] = str(encoded.header_length)
    return Response(encoded.body, 200, headers=headers, media_type="application/octet-stream")


def _invocations(gateway: Gateway) -> Endpoint:
    async def invocations(request: Request) -> Response:
        started = time.perf_counter()
        model: LoadedModel | None = None
        rows = 0
        try:
            model = _invocations_model(gateway, request)
            body = await _read_body(request, gateway.max_body_bytes)
            content_type = request.headers.get("content-type", JSON)
            batch, _ = await _decode(
                gateway,
                model,
                lambda spec: (protocols.invocations_batch(spec, body, content_type), None),
            )
            outputs = await _predict(gateway, model, batch)
            payload = protocols.invocations_response(outputs)
            rows = batch.rows
        except InputError as exc:
            status = exc.status
            code = "RESOURCE_DOES_NOT_EXIST" if status == 404 else "BAD_REQUEST"
            response = _json({"error_code": code, "message": str(exc)}, status)
        else:
            status, response = 200, _json(payload, headers=_model_headers(model))
            _log_prediction(gateway, model, None, "invocations", batch, outputs)
        _observe(gateway, model, "invocations", status, started, rows)
        return response

    return invocations


def _invocations_model(gateway: Gateway, request: Request) -> LoadedModel:
    if "name" in request.path_params:
        return _lookup(gateway, request)
    name = request.query_params.get("model")
    served = gateway.served.all()
    if name is None:
        if len(served) == 1:
            return next(iter(served.values()))
        raise InputError(
            f"{len(served)} models are served; name one with /invocations?model=NAME or use "
            "/models/NAME/invocations"
            if served
            else _not_served(gateway, "(none)"),
            400 if served else 404,
        )
    model = served.get(name)
    if model is None:
        raise InputError(_not_served(gateway, name), 404)
    return model


def _model_headers(model: LoadedModel) -> dict[str, str]:
    return {"x-model-name": model.name, "x-model-version": model.version}


def _log_prediction(
    gateway: Gateway,
    model: LoadedModel,
    request_id: str | None,
    protocol: str,
    batch: Batch,
    outputs: Any,
) -> None:
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


def _observe(
    gateway: Gateway,
    model: LoadedModel | None,
    protocol: str,
    status: int,
    started: float,
    rows: int,
) -> None:
    name, version = (model.name, model.version) if model is not None else ("", "")
    elapsed = time.perf_counter() - started
    gateway.metrics.observe(name, version, protocol, status, elapsed, rows)


def _metrics(gateway: Gateway) -> Endpoint:
    async def metrics(request: Request) -> Response:
        return Response(gateway.metrics.render(), media_type=gateway.metrics.content_type)

    return metrics


def _openapi(gateway: Gateway) -> Endpoint:
    async def document(request: Request) -> Response:
        return _json(openapi.document(gateway.served.all(), __version__))

    return document
