"""The gateway's gRPC service in-process, around a real MLflow model folder.

The app's lifespan starts the service on the same event loop as the HTTP routes; a real
gRPC channel on 127.0.0.1 talks to it with the protocol's messages.
"""

from __future__ import annotations

import asyncio
import io
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from stratakit.gateway import core
from stratakit.gateway.app import Gateway, create_app
from stratakit.gateway.loading import LoadedModel
from stratakit.gateway.metrics import GatewayMetrics
from stratakit.gateway.oip import inference_pb2 as pb
from stratakit.gateway.oip import service
from stratakit.gateway.prediction_log import PredictionLog
from stratakit.gateway.watcher import ServedModels
from stratakit.stack.ports import free_port

from ...helpers.models import COLUMNS, churn_rows

ROOT = Path(__file__).resolve().parents[3]
TYPES = {"tenure": "FP64", "spend": "FP64", "tickets": "INT64"}
RESPONSES = {
    "ServerLive": pb.ServerLiveResponse,
    "ServerReady": pb.ServerReadyResponse,
    "ModelReady": pb.ModelReadyResponse,
    "ServerMetadata": pb.ServerMetadataResponse,
    "ModelMetadata": pb.ModelMetadataResponse,
    "ModelInfer": pb.ModelInferResponse,
}


@dataclass
class Served:
    """The HTTP test client, a gRPC caller and what the log wrote (after shutdown)."""

    http: TestClient
    channel: grpc.Channel
    sink: dict[str, bytes]

    def call(self, method: str, request: Any) -> Any:
        rpc = self.channel.unary_unary(
            f"/{service.SERVICE}/{method}",
            request_serializer=lambda message: message.SerializeToString(),
            response_deserializer=RESPONSES[method].FromString,
        )
        return rpc(request, timeout=30)

    def fails(self, method: str, request: Any) -> grpc.RpcError:
        with pytest.raises(grpc.RpcError) as caught:
            self.call(method, request)
        return caught.value


@pytest.fixture(scope="module")
def served(model: LoadedModel) -> Iterator[Served]:
    models = ServedModels()
    models.replace({"churn": model})
    models.ready = True
    sink: dict[str, bytes] = {}
    log = PredictionLog(sink.__setitem__, flush_seconds=3600)
    gateway = Gateway(served=models, metrics=GatewayMetrics(), prediction_log=log)
    address = f"127.0.0.1:{free_port()}"
    app = create_app(gateway, on_startup=log.start, on_shutdown=log.stop, grpc_address=address)
    with TestClient(app) as http, grpc.insecure_channel(address) as channel:
        yield Served(http, channel, sink)


def raw_request(frame: pd.DataFrame, **fields: Any) -> pb.ModelInferRequest:
    request = pb.ModelInferRequest(model_name="churn", **fields)
    for column in COLUMNS:
        request.inputs.add(name=column, datatype=TYPES[column], shape=[len(frame)])
        dtype = "<f8" if TYPES[column] == "FP64" else "<i8"
        request.raw_input_contents.append(frame[column].to_numpy(dtype).tobytes())
    return request


def output(response: pb.ModelInferResponse, position: int = 0) -> np.ndarray:
    tensor = response.outputs[position]
    assert tensor.datatype == "FP64"
    values = np.frombuffer(response.raw_output_contents[position], "<f8")
    return values.reshape(list(tensor.shape))


def test_health_and_metadata_answer_as_the_http_routes_do(served: Served) -> None:
    assert served.call("ServerLive", pb.ServerLiveRequest()).live
    assert served.call("ServerReady", pb.ServerReadyRequest()).ready
    assert served.call("ModelReady", pb.ModelReadyRequest(name="churn")).ready
    assert served.call("ModelReady", pb.ModelReadyRequest(name="churn", version="7")).ready
    assert not served.call("ModelReady", pb.ModelReadyRequest(name="churn", version="3")).ready
    assert not served.call("ModelReady", pb.ModelReadyRequest(name="nope")).ready
    assert served.call("ServerMetadata", pb.ServerMetadataRequest()).name == "stratakit-gateway"

    metadata = served.call("ModelMetadata", pb.ModelMetadataRequest(name="churn"))
    http = served.http.get("/v2/models/churn").json()
    assert (metadata.name, list(metadata.versions), metadata.platform) == ("churn", ["7"], "mlflow")
    for side in ("inputs", "outputs"):
        assert [
            {"name": t.name, "datatype": t.datatype, "shape": list(t.shape)}
            for t in getattr(metadata, side)
        ] == [{k: t[k] for k in ("name", "datatype", "shape")} for t in http[side]]

    unknown = served.fails("ModelMetadata", pb.ModelMetadataRequest(name="nope"))
    assert unknown.code() == grpc.StatusCode.NOT_FOUND
    assert "served: churn" in (unknown.details() or "")


def test_raw_and_typed_contents_answer_like_pyfunc(served: Served, model: LoadedModel) -> None:
    frame = churn_rows(6)
    expected = model.pyfunc.predict(frame)
    answer = served.call("ModelInfer", raw_request(frame, id="grpc-1"))
    assert (answer.model_name, answer.model_version, answer.id) == ("churn", "7", "grpc-1")
    assert list(answer.outputs[0].shape) == [6, 2]
    np.testing.assert_allclose(output(answer), expected)

    typed = pb.ModelInferRequest(model_name="churn", model_version="7")
    for column in COLUMNS:
        tensor = typed.inputs.add(name=column, datatype=TYPES[column], shape=[6, 1])
        target = (
            tensor.contents.fp64_contents
            if TYPES[column] == "FP64"
            else (tensor.contents.int64_contents)
        )
        target.extend(frame[column].tolist())
    np.testing.assert_allclose(output(served.call("ModelInfer", typed)), expected)

    named = raw_request(frame)
    named.outputs.add(name="predict_proba")
    assert [t.name for t in served.call("ModelInfer", named).outputs] == ["predict_proba"]


def test_requests_are_counted_and_logged_as_grpc(model: LoadedModel) -> None:
    models = ServedModels()
    models.replace({"churn": model})
    sink: dict[str, bytes] = {}
    log = PredictionLog(sink.__setitem__, flush_seconds=3600)
    gateway = Gateway(served=models, metrics=GatewayMetrics(), prediction_log=log)
    address = f"127.0.0.1:{free_port()}"
    app = create_app(gateway, on_startup=log.start, on_shutdown=log.stop, grpc_address=address)
    frame = churn_rows(4)
    with TestClient(app) as http, grpc.insecure_channel(address) as channel:
        caller = Served(http, channel, sink)
        caller.call("ModelInfer", raw_request(frame, id="logged"))
        caller.fails("ModelInfer", pb.ModelInferRequest(model_name="churn"))
        text = http.get("/metrics").text
    assert 'code="200",model="churn",protocol="grpc",version="7"} 1.0' in text
    assert 'code="400",model="churn",protocol="grpc",version="7"} 1.0' in text
    assert 'strata_gateway_predicted_rows_total{model="churn",version="7"} 4.0' in text
    [blob] = sink.values()  # shutting the app down flushed the log
    table = pq.read_table(io.BytesIO(blob)).to_pandas()
    assert table["protocol"].tolist() == ["grpc"] * 4
    assert table["request_id"].tolist() == ["logged"] * 4
    np.testing.assert_allclose(table["tenure"], frame["tenure"])


def _without(request: pb.ModelInferRequest, position: int) -> pb.ModelInferRequest:
    del request.raw_input_contents[position]
    return request


def _resized(request: pb.ModelInferRequest) -> pb.ModelInferRequest:
    request.raw_input_contents[1] = request.raw_input_contents[1][:-3]
    return request


def _both(request: pb.ModelInferRequest) -> pb.ModelInferRequest:
    request.inputs[0].contents.fp64_contents.extend([1.0, 2.0])
    return request


def _typed(datatype: str, count: int) -> pb.ModelInferRequest:
    request = pb.ModelInferRequest(model_name="churn")
    tensor = request.inputs.add(name="tenure", datatype=datatype, shape=[2])
    tensor.contents.fp64_contents.extend([1.0] * count)
    return request


@pytest.mark.parametrize(
    ("request_of", "words"),
    [
        (lambda: _without(raw_request(churn_rows(2)), 2), "raw_input_contents has 2 entries for 3"),
        (
            lambda: _resized(raw_request(churn_rows(2))),
            "input 'spend': shape [2] of FP64 needs 16 bytes, its raw_input_contents entry has 13",
        ),
        (lambda: _both(raw_request(churn_rows(2))), "input 'tenure': has both contents and raw"),
        (lambda: _typed("FP64", 3), "input 'tenure': shape [2] needs 2 values, got 3"),
        (lambda: _typed("FP16", 2), "datatype 'FP16' has no typed contents"),
        (lambda: _typed("BYTES", 0), "input 'tenure': shape [2] needs 2 values, got 0"),
        (lambda: pb.ModelInferRequest(model_name="churn"), "'inputs' must be a non-empty list"),
    ],
    ids=["count", "size", "both", "values", "fp16", "bytes", "empty"],
)
def test_malformed_requests_are_invalid_arguments_naming_the_tensor(
    served: Served, request_of: Any, words: str
) -> None:
    failure = served.fails("ModelInfer", request_of())
    assert failure.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert words in (failure.details() or "")


def test_an_unknown_output_or_model_is_named(served: Served) -> None:
    asked = raw_request(churn_rows(2))
    asked.outputs.add(name="margin")
    failure = served.fails("ModelInfer", asked)
    assert failure.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "output 'margin' is not produced" in (failure.details() or "")
    elsewhere = served.fails("ModelInfer", raw_request(churn_rows(2), model_version="3"))
    assert elsewhere.code() == grpc.StatusCode.NOT_FOUND
    assert "version 7 holds" in (elsewhere.details() or "")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    datatype=st.sampled_from(["FP64", "FP32", "INT64", "INT8", "BOOL", "BYTES", "FP16", "?"]),
    shape=st.lists(st.integers(0, 5), max_size=3),
    blobs=st.lists(st.binary(max_size=64), min_size=1, max_size=4),
)
def test_any_framing_is_answered_or_refused_never_an_internal_error(
    served: Served, datatype: str, shape: list[int], blobs: list[bytes]
) -> None:
    request = pb.ModelInferRequest(model_name="churn")
    for column, blob in zip(COLUMNS, blobs, strict=False):
        request.inputs.add(name=column, datatype=datatype, shape=shape)
        request.raw_input_contents.append(blob)
    try:
        served.call("ModelInfer", request)
    except grpc.RpcError as failure:
        assert failure.code() == grpc.StatusCode.INVALID_ARGUMENT, failure.details()


def test_a_taken_port_is_refused_with_the_fix(model: LoadedModel) -> None:
    models = ServedModels()
    gateway = Gateway(served=models, metrics=GatewayMetrics(), prediction_log=PredictionLog(None))
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(OSError, match="STRATA_GATEWAY_GRPC_PORT"):
            asyncio.run(service.start(gateway, f"127.0.0.1:{port}"))


def test_the_python_messages_are_generated_from_the_proto(tmp_path: Path) -> None:
    source = "stratakit/gateway/oip/inference.proto"
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{ROOT / 'platform'}",
         f"--python_out={tmp_path}", f"--pyi_out={tmp_path}", str(ROOT / "platform" / source)],
        check=True,
    )  # fmt: skip
    for suffix in (".py", ".pyi"):
        generated = tmp_path / f"stratakit/gateway/oip/inference_pb2{suffix}"
        committed = ROOT / f"platform/stratakit/gateway/oip/inference_pb2{suffix}"
        assert generated.read_text() == committed.read_text(), f"regenerate {committed.name}"


def test_a_failure_inside_is_internal_and_counted_as_one(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(core, "predict", broken)
    failure = served.fails("ModelInfer", raw_request(churn_rows(2)))
    assert failure.code() == grpc.StatusCode.INTERNAL
    assert "see its log" in (failure.details() or "")
    assert 'code="500",model="churn",protocol="grpc",version="7"} 1.0' in (
        served.http.get("/metrics").text
    )
