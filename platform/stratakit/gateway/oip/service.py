"""``inference.GRPCInferenceService`` on the gateway's event loop, beside the HTTP routes.

Each RPC turns its protobuf message into the request body the HTTP path builds from JSON
(tensors as arrays in ``data``) and calls the same functions: the same validation and
messages, the same micro-batcher, the same metrics (``protocol="grpc"``) and prediction
log. Answers carry their tensors in ``raw_output_contents``, as Triton's and MLServer's
clients expect. Errors are gRPC status codes with the HTTP path's one-line message.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

import grpc
import numpy as np
from grpc import aio

from stratakit import __version__
from stratakit.errors import InputError
from stratakit.gateway import binary, core, protocols
from stratakit.gateway.core import Gateway
from stratakit.gateway.oip import inference_pb2 as pb

log = logging.getLogger("stratakit.gateway")

SERVICE = "inference.GRPCInferenceService"
#: How framing errors name a tensor's byte count over gRPC.
_RAW_SIZE = "its raw_input_contents entry has"
PROTOCOL = "grpc"

#: The HTTP status of an ``InputError`` → the gRPC status code that means the same.
_CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    404: grpc.StatusCode.NOT_FOUND,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    415: grpc.StatusCode.INVALID_ARGUMENT,
    422: grpc.StatusCode.INVALID_ARGUMENT,
}
#: ``InferTensorContents`` field holding each datatype's values (FP16 goes only as raw bytes).
_CONTENTS = {
    "BOOL": "bool_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}


async def start(gateway: Gateway, address: str) -> aio.Server:
    """Serve the protocol on ``address`` (``host:port``); fails when the port is taken."""
    server = aio.server(
        options=[
            # One listener per port: with SO_REUSEPORT a second gateway would share it.
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", gateway.max_body_bytes),
            ("grpc.max_send_message_length", -1),
        ]
    )
    server.add_generic_rpc_handlers((handler(gateway),))
    try:
        server.add_insecure_port(address)
    except RuntimeError as exc:
        raise OSError(
            f"the gateway cannot listen for gRPC on {address} ({exc}); free the port or "
            "choose another with STRATA_GATEWAY_GRPC_PORT"
        ) from None
    await server.start()
    log.info("serving the Open Inference Protocol over gRPC on %s", address)
    return server


def handler(gateway: Gateway) -> grpc.GenericRpcHandler:
    """The service's six RPCs for ``gateway``."""
    methods: dict[str, tuple[Callable[..., Awaitable[Any]], Any]] = {
        "ServerLive": (_live, pb.ServerLiveRequest),
        "ServerReady": (_ready, pb.ServerReadyRequest),
        "ModelReady": (_model_ready, pb.ModelReadyRequest),
        "ServerMetadata": (_server_metadata, pb.ServerMetadataRequest),
        "ModelMetadata": (_model_metadata, pb.ModelMetadataRequest),
        "ModelInfer": (_infer, pb.ModelInferRequest),
    }
    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            name: grpc.unary_unary_rpc_method_handler(
                _bound(gateway, call),
                request_deserializer=message.FromString,
                response_serializer=lambda response: response.SerializeToString(),
            )
            for name, (call, message) in methods.items()
        },
    )


def _bound(
    gateway: Gateway, call: Callable[..., Awaitable[Any]]
) -> Callable[[Any, aio.ServicerContext[Any, Any]], Awaitable[Any]]:
    async def rpc(request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
        try:
            return await call(gateway, request)
        except InputError as exc:
            await _abort(context, exc)
        except Exception:
            log.exception("gRPC %s failed", type(request).__name__)
            await context.abort(grpc.StatusCode.INTERNAL, "the gateway failed; see its log")

    return rpc


async def _abort(context: aio.ServicerContext[Any, Any], exc: InputError) -> NoReturn:
    await context.abort(_CODES.get(exc.status, grpc.StatusCode.INVALID_ARGUMENT), str(exc))
    raise AssertionError("unreachable: abort raises")  # pragma: no cover


async def _live(gateway: Gateway, request: pb.ServerLiveRequest) -> pb.ServerLiveResponse:
    return pb.ServerLiveResponse(live=True)


async def _ready(gateway: Gateway, request: pb.ServerReadyRequest) -> pb.ServerReadyResponse:
    return pb.ServerReadyResponse(ready=gateway.served.ready)


async def _model_ready(gateway: Gateway, request: pb.ModelReadyRequest) -> pb.ModelReadyResponse:
    """Ready when that model (and version, if named) is served; unknown ones are not ready."""
    try:
        core.lookup(gateway, request.name, request.version or None)
    except InputError:
        return pb.ModelReadyResponse(ready=False)
    return pb.ModelReadyResponse(ready=True)


async def _server_metadata(
    gateway: Gateway, request: pb.ServerMetadataRequest
) -> pb.ServerMetadataResponse:
    # The HTTP extensions (binary tensor data) have no meaning here: raw contents are native.
    return pb.ServerMetadataResponse(name="stratakit-gateway", version=__version__)


async def _model_metadata(
    gateway: Gateway, request: pb.ModelMetadataRequest
) -> pb.ModelMetadataResponse:
    model = core.lookup(gateway, request.name, request.version or None)
    metadata = protocols.v2_model_metadata(model, gateway.served.refused.get(model.name))
    return pb.ModelMetadataResponse(
        name=metadata["name"],
        versions=metadata["versions"],
        platform=metadata["platform"],
        inputs=[_tensor_metadata(t) for t in metadata["inputs"]],
        outputs=[_tensor_metadata(t) for t in metadata["outputs"]],
    )


def _tensor_metadata(tensor: dict[str, Any]) -> pb.ModelMetadataResponse.TensorMetadata:
    return pb.ModelMetadataResponse.TensorMetadata(
        name=tensor["name"], datatype=tensor["datatype"], shape=tensor["shape"]
    )


async def _infer(gateway: Gateway, request: pb.ModelInferRequest) -> pb.ModelInferResponse:
    started = time.perf_counter()
    model = None
    status, rows = 500, 0  # counted as a server error unless it ends otherwise
    try:
        model = core.lookup(gateway, request.model_name, request.model_version or None)
        body = request_body(request)
        batch, request_id = await core.decode(
            gateway, model, lambda spec: protocols.v2_batch(spec, body)
        )
        outputs = await core.predict(gateway, model, batch)
        response = response_message(model, outputs, request_id, request.outputs)
        rows = batch.rows
    except InputError as exc:
        status = exc.status
        raise
    else:
        status = 200
        core.log_prediction(gateway, model, request_id, PROTOCOL, batch, outputs)
        return response
    finally:
        core.observe(gateway, model, PROTOCOL, status, started, rows)


def request_body(request: pb.ModelInferRequest) -> dict[str, Any]:
    """The request as the HTTP path's parsed body: each tensor's data decoded into an array."""
    raw = request.raw_input_contents
    if raw and len(raw) != len(request.inputs):
        raise InputError(
            f"raw_input_contents has {len(raw)} entries for {len(request.inputs)} inputs; "
            "send every input's data there, in the order of 'inputs', or none"
        )
    inputs = []
    for position, tensor in enumerate(request.inputs):
        where = f"input '{tensor.name[:100]}'" if tensor.name else f"inputs[{position}]"
        shape = list(tensor.shape)
        if any(d < 0 for d in shape):
            raise InputError(f"{where}: shape must be a list of non-negative integers")
        if raw:
            if tensor.HasField("contents"):
                raise InputError(f"{where}: has both contents and raw_input_contents; send one")
            data = binary.decode(
                tensor.datatype, shape, memoryview(raw[position]), where, _RAW_SIZE
            )
        else:
            data = _contents(tensor, shape, where)
        inputs.append(
            {"name": tensor.name, "shape": shape, "datatype": tensor.datatype, "data": data}
        )
    return {"id": request.id or None, "inputs": inputs}


def _contents(tensor: Any, shape: list[int], where: str) -> np.ndarray:
    field = _CONTENTS.get(tensor.datatype)
    if field is None:
        raise InputError(
            f"{where}: datatype {tensor.datatype[:20]!r} has no typed contents; use one of "
            f"{', '.join(_CONTENTS)} (or send the tensor in raw_input_contents)"
        )
    values = getattr(tensor.contents, field)
    count = math.prod(shape)
    if len(values) != count:
        raise InputError(f"{where}: shape {shape} needs {count} values, got {len(values)}")
    if tensor.datatype == "BYTES":
        array = np.empty(count, dtype=object)
        array[:] = list(values)
    else:
        array = np.asarray(values, dtype=binary.DTYPES[tensor.datatype])
    return array.reshape(shape)


def response_message(
    model: Any, outputs: Any, request_id: str | None, wanted: Any
) -> pb.ModelInferResponse:
    """One output tensor per prediction column (the ones asked for), data as raw bytes."""
    response = pb.ModelInferResponse(
        model_name=model.name, model_version=model.version, id=request_id or ""
    )
    names = [output.name for output in wanted]
    for name, values, datatype in protocols.selected_outputs(model, outputs, names):
        response.outputs.add(name=name, datatype=datatype, shape=list(values.shape))
        response.raw_output_contents.append(binary.encode(values, datatype))
    return response
