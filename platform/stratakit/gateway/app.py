"""The ASGI app: routes that move bytes between HTTP and the pure protocol functions.

``create_app`` takes everything it uses (the served models, metrics, the prediction log),
so a test can build one around models it loaded itself.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stratakit import __version__
from stratakit.errors import InputError
from stratakit.gateway import binary, core, openapi, protocols
from stratakit.gateway.core import Gateway
from stratakit.gateway.loading import LoadedModel

log = logging.getLogger("stratakit.gateway")
JSON = "application/json"


__all__ = ["Gateway", "create_app"]


def create_app(
    gateway: Gateway,
    on_startup: Callable[[], None] = lambda: None,
    on_shutdown: Callable[[], None] = lambda: None,
    grpc_address: str | None = None,
) -> Starlette:
    """The Starlette app serving ``gateway``; the hooks start and stop background work.

    With ``grpc_address`` (``host:port``) the protocol's gRPC service runs beside the
    routes, on the same event loop, for as long as the app does.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        on_startup()
        grpc_server = None
        try:
            if grpc_address is not None:
                from stratakit.gateway.oip import service

                grpc_server = await service.start(gateway, grpc_address)
            yield
        finally:
            if grpc_server is not None:
                await grpc_server.stop(grace=5)
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


def _lookup(gateway: Gateway, request: Request) -> LoadedModel:
    return core.lookup(gateway, request.path_params["name"], request.path_params.get("version"))


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
            batch, request_id = await core.decode(
                gateway, model, lambda spec: protocols.v2_batch(spec, v2.body)
            )
            outputs = await core.predict(gateway, model, batch)
            encoded = protocols.v2_response(model, outputs, request_id, v2.outputs)
            rows = batch.rows
        except InputError as exc:
            status, response = exc.status, _json({"error": str(exc)}, exc.status)
        else:
            status, response = 200, _v2_encoded(model, encoded)
            if encoded.header_length is not None:
                protocol = "v2-binary"
            core.log_prediction(gateway, model, request_id, protocol, batch, outputs)
        core.observe(gateway, model, protocol, status, started, rows)
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
            batch, _ = await core.decode(
                gateway,
                model,
                lambda spec: (protocols.invocations_batch(spec, body, content_type), None),
            )
            outputs = await core.predict(gateway, model, batch)
            payload = protocols.invocations_response(outputs)
            rows = batch.rows
        except InputError as exc:
            status = exc.status
            code = "RESOURCE_DOES_NOT_EXIST" if status == 404 else "BAD_REQUEST"
            response = _json({"error_code": code, "message": str(exc)}, status)
        else:
            status, response = 200, _json(payload, headers=_model_headers(model))
            core.log_prediction(gateway, model, None, "invocations", batch, outputs)
        core.observe(gateway, model, "invocations", status, started, rows)
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
            else core.not_served(gateway, "(none)"),
            400 if served else 404,
        )
    model = served.get(name)
    if model is None:
        raise InputError(core.not_served(gateway, name), 404)
    return model


def _model_headers(model: LoadedModel) -> dict[str, str]:
    return {"x-model-name": model.name, "x-model-version": model.version}


def _metrics(gateway: Gateway) -> Endpoint:
    async def metrics(request: Request) -> Response:
        return Response(gateway.metrics.render(), media_type=gateway.metrics.content_type)

    return metrics


def _openapi(gateway: Gateway) -> Endpoint:
    async def document(request: Request) -> Response:
        return _json(openapi.document(gateway.served.all(), __version__))

    return document
