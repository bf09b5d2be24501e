"""The gateway app in-process, around a real MLflow model folder (no servers)."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient
from tritonclient.http import InferInput, InferRequestedOutput, InferResult
from tritonclient.http._utils import _get_inference_request

from stratakit.errors import ModelLoadError
from stratakit.gateway.app import Gateway, create_app
from stratakit.gateway.batching import MicroBatcher
from stratakit.gateway.inputs import Batch
from stratakit.gateway.loading import LoadedModel, load_folder
from stratakit.gateway.metrics import GatewayMetrics
from stratakit.gateway.prediction_log import Entry, PredictionLog
from stratakit.gateway.watcher import ServedModels
from stratakit.registry.lineage import tree_sha256

from ...helpers.models import COLUMNS, churn_rows


@pytest.fixture
def sink() -> dict[str, bytes]:
    return {}


@pytest.fixture
def client(model: LoadedModel, sink: dict[str, bytes]) -> Iterator[TestClient]:
    served = ServedModels()
    served.replace({"churn": model})
    served.ready = True
    log = PredictionLog(sink.__setitem__, flush_seconds=3600)
    gateway = Gateway(served=served, metrics=GatewayMetrics(), prediction_log=log)
    with TestClient(create_app(gateway, on_shutdown=log.stop)) as test_client:
        yield test_client


def v2_body(frame: pd.DataFrame) -> dict[str, object]:
    types = {"tenure": "FP64", "spend": "FP64", "tickets": "INT64"}
    return {
        "id": "req-1",
        "inputs": [
            {"name": c, "shape": [len(frame)], "datatype": types[c], "data": frame[c].tolist()}
            for c in COLUMNS
        ],
    }


def test_fast_path_answers_like_pyfunc(model: LoadedModel) -> None:
    assert model.fast is not None
    assert model.matrix_order == tuple(model.pyfunc.get_raw_model().feature_names_in_)
    frame = churn_rows(20)
    batch = Batch(rows=20, columns={c: frame[c].to_numpy() for c in COLUMNS})
    np.testing.assert_allclose(model.predict(batch), model.pyfunc.predict(frame))


def test_both_protocols_answer_like_the_model(client: TestClient, model: LoadedModel) -> None:
    frame = churn_rows(5)
    expected = model.pyfunc.predict(frame)
    v2 = client.post("/v2/models/churn/infer", json=v2_body(frame))
    assert v2.status_code == 200, v2.text
    answer = v2.json()
    assert (answer["model_name"], answer["model_version"], answer["id"]) == ("churn", "7", "req-1")
    [output] = answer["outputs"]
    assert output["shape"] == [5, 2] and output["datatype"] == "FP64"
    np.testing.assert_allclose(np.reshape(output["data"], (5, 2)), expected)
    records = frame.to_dict(orient="records")
    for path in ("/invocations", "/models/churn/invocations", "/invocations?model=churn"):
        mlflow_style = client.post(path, json={"dataframe_records": records})
        assert mlflow_style.status_code == 200, mlflow_style.text
        assert mlflow_style.headers["x-model-version"] == "7"
        np.testing.assert_allclose(mlflow_style.json()["predictions"], expected)


def test_errors_are_4xx_with_a_reason(client: TestClient) -> None:
    unknown = client.post("/v2/models/nope/infer", json=v2_body(churn_rows(1)))
    assert unknown.status_code == 404
    assert "served: churn" in unknown.json()["error"]
    assert client.get("/v2/models/churn/versions/3").status_code == 404
    assert client.get("/v2/models/churn/versions/7").json()["versions"] == ["7"]
    huge = client.post(
        "/v2/models/churn/infer", content=b"{" + b" " * 9_000_000 + b"}"
    )  # over the 8 MiB default
    assert huge.status_code == 413 and "limit" in huge.json()["error"]
    wrong = client.post("/invocations", json={"dataframe_records": [{"tenure": "x"}]})
    assert wrong.status_code == 400
    assert wrong.json()["error_code"] == "BAD_REQUEST"
    assert "'tenure'" in wrong.json()["message"]
    assert client.post("/invocations?model=other", json={}).status_code == 404
    assert client.get("/v2/models/churn/infer").status_code == 405


def test_metadata_openapi_and_health(client: TestClient) -> None:
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").json()["ready"] is True
    assert client.get("/v2/models/churn/ready").json() == {
        "name": "churn",
        "version": "7",
        "ready": True,
    }
    assert client.get("/v2/models/other/ready").status_code == 404
    meta = client.get("/v2/models/churn").json()
    assert [i["name"] for i in meta["inputs"]] == COLUMNS
    assert meta["parameters"]["fast_path"] is True
    assert meta["parameters"]["refused_version"] is None
    doc = client.get("/openapi.json").json()
    assert doc["openapi"] == "3.1.0"
    body = doc["paths"]["/v2/models/churn/infer"]["post"]["requestBody"]
    variants = body["content"]["application/json"]["schema"]["properties"]["inputs"]["items"]
    assert [v["properties"]["name"]["const"] for v in variants["oneOf"]] == COLUMNS


def test_metrics_count_requests_by_model_version(client: TestClient) -> None:
    client.post("/v2/models/churn/infer", json=v2_body(churn_rows(3)))
    client.post("/v2/models/churn/infer", json={"inputs": []})
    client.post("/v2/models/ghost/infer", json={})
    text = client.get("/metrics").text
    assert (
        'strata_gateway_requests_total{code="200",model="churn",protocol="v2",version="7"} 1.0'
        in text
    )
    assert (
        'strata_gateway_requests_total{code="400",model="churn",protocol="v2",version="7"} 1.0'
        in text
    )
    assert 'code="404",model="",protocol="v2",version=""' in text  # no label per unknown name
    assert 'strata_gateway_predicted_rows_total{model="churn",version="7"} 3.0' in text
    assert "strata_gateway_request_duration_seconds_bucket" in text


def test_predictions_are_logged_as_parquet(model: LoadedModel) -> None:
    sink: dict[str, bytes] = {}
    served = ServedModels()
    served.replace({"churn": model})
    log = PredictionLog(sink.__setitem__, flush_seconds=3600)
    gateway = Gateway(served=served, metrics=GatewayMetrics(), prediction_log=log)
    frame = churn_rows(4)
    with TestClient(create_app(gateway, on_startup=log.start, on_shutdown=log.stop)) as client:
        client.post("/v2/models/churn/infer", json=v2_body(frame))
        client.post("/invocations", json={"dataframe_records": frame.head(1).to_dict("records")})
        assert sink == {}  # batched: nothing written per request
    # leaving the block shuts the app down, which flushes the log
    [(key, blob)] = sink.items()
    assert key.startswith("predictions/churn/version=7/date=") and key.endswith(".parquet")
    table = pq.read_table(io.BytesIO(blob)).to_pandas()
    assert len(table) == 5
    assert table["protocol"].tolist() == ["v2"] * 4 + ["invocations"]
    assert table["request_id"].iloc[0] == "req-1"
    np.testing.assert_allclose(table["tenure"].iloc[:4], frame["tenure"])
    np.testing.assert_allclose(np.stack(table["prediction"].iloc[:4]), model.pyfunc.predict(frame))


def test_log_drops_and_counts_when_full() -> None:
    counted: dict[str, int] = {}
    log = PredictionLog(
        lambda key, blob: None,
        max_pending=3,
        count=lambda outcome, n: counted.__setitem__(outcome, counted.get(outcome, 0) + n),
    )
    batch = Batch(rows=2, columns={"x": np.zeros(2)})
    for _ in range(3):
        log.record(Entry(0.0, "m", "1", "r", "v2", batch, np.zeros(2)))
    assert counted == {"dropped": 4}  # only the first fits
    assert log.flush() == 2
    assert counted["written"] == 2


def test_a_tampered_folder_is_refused(model_folder: Path, tmp_path: Path) -> None:
    digest = tree_sha256(model_folder)
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(model_folder, copy)
    (copy / "MLmodel").write_text((copy / "MLmodel").read_text() + "\n# edited\n")
    with pytest.raises(ModelLoadError, match="differs from its lineage tag"):
        load_folder("churn", "8", copy, digest)


def test_micro_batching_merges_concurrent_calls_and_isolates_failures() -> None:
    seen: list[int] = []

    def predict(matrix: np.ndarray) -> np.ndarray:
        seen.append(len(matrix))
        if np.isnan(matrix).any():
            raise ValueError("NaN row")
        return matrix.sum(axis=1)

    async def main() -> list[object]:
        batcher = MicroBatcher(predict)
        calls = [batcher(np.full((2, 2), float(i))) for i in range(5)]
        calls.append(batcher(np.array([[np.nan, 1.0]])))
        return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(main())
    assert seen[0] == 11  # one call for all six requests' rows
    for i, result in enumerate(results[:5]):
        assert isinstance(result, np.ndarray)
        assert result.tolist() == [2.0 * i, 2.0 * i]
    assert isinstance(results[5], ValueError)  # only the bad request fails


@pytest.fixture(scope="module")
def tensor_model(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    """A model trained on a plain matrix: its signature is one float64 tensor [-1, 3]."""
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(5)
    matrix = rng.normal(size=(200, 3))
    estimator = LogisticRegression().fit(matrix, (matrix[:, 0] > 0).astype(int))
    folder = tmp_path_factory.mktemp("tensor") / "model"
    mlflow.sklearn.save_model(
        estimator,
        folder,
        signature=infer_signature(matrix, estimator.predict(matrix)),
        input_example=matrix[:2],
        pip_requirements=["scikit-learn"],
    )
    return load_folder("digits", "2", folder)


def test_tensor_models_take_one_tensor(tensor_model: LoadedModel) -> None:
    assert tensor_model.spec.tensors and tensor_model.fast is not None
    served = ServedModels()
    served.replace({"digits": tensor_model})
    gateway = Gateway(served=served, metrics=GatewayMetrics(), prediction_log=PredictionLog(None))
    matrix = np.array([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]])
    expected = tensor_model.pyfunc.predict(matrix).tolist()
    with TestClient(create_app(gateway)) as client:
        v2 = client.post(
            "/v2/models/digits/infer",
            json={
                "inputs": [
                    {
                        "name": "x",
                        "shape": [2, 3],
                        "datatype": "FP64",
                        "data": matrix.ravel().tolist(),
                    }
                ]
            },
        )
        assert v2.status_code == 200, v2.text
        assert v2.json()["outputs"][0]["data"] == expected
        for body in ({"instances": matrix.tolist()}, {"inputs": matrix.tolist()}):
            answer = client.post("/invocations", json=body)
            assert answer.status_code == 200, answer.text
            assert answer.json()["predictions"] == expected
        wrong = client.post("/invocations", json={"instances": [[1.0, 2.0]]})
        assert wrong.status_code == 400 and "expected shape [*, 3]" in wrong.json()["message"]
        records = client.post("/invocations", json={"dataframe_records": [{"a": 1}]})
        assert records.status_code == 400 and "column-based" in records.json()["message"]


def test_a_model_without_signature_goes_through_pyfunc(tmp_path: Path) -> None:
    import mlflow
    from sklearn.linear_model import LinearRegression

    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    estimator = LinearRegression().fit(frame, frame["a"] * 2 + frame["b"])
    mlflow.sklearn.save_model(estimator, tmp_path / "m", pip_requirements=["scikit-learn"])
    model = load_folder("plain", "1", tmp_path / "m")
    assert model.fast is None and not model.spec.columns and not model.spec.tensors
    served = ServedModels()
    served.replace({"plain": model})
    gateway = Gateway(served=served, metrics=GatewayMetrics(), prediction_log=PredictionLog(None))
    with TestClient(create_app(gateway)) as client:
        answer = client.post("/invocations", json={"dataframe_records": [{"a": 1.0, "b": 1.0}]})
        assert answer.status_code == 200, answer.text
        assert answer.json()["predictions"] == pytest.approx([3.0])
        v2 = client.post(
            "/v2/models/plain/infer",
            json={
                "inputs": [
                    {"name": "a", "shape": [1], "datatype": "FP64", "data": [2.0]},
                    {"name": "b", "shape": [1], "datatype": "FP64", "data": [0.0]},
                ]
            },
        )
        assert v2.status_code == 200 and v2.json()["outputs"][0]["data"] == pytest.approx([4.0])
        rejected = client.post("/invocations", json={"dataframe_records": [{"a": 1.0}]})
        assert rejected.status_code == 422, rejected.text  # the model's own check, not a 500


# -- the binary tensor data extension, as tritonclient frames it -----------------------


@pytest.fixture(scope="module")
def oip(model: LoadedModel) -> Iterator[tuple[TestClient, Gateway, dict[str, bytes]]]:
    """One app for the module's protocol tests (property tests share it across examples)."""
    sink: dict[str, bytes] = {}
    served = ServedModels()
    served.replace({"churn": model})
    served.ready = True
    log = PredictionLog(sink.__setitem__, flush_seconds=3600)
    gateway = Gateway(served=served, metrics=GatewayMetrics(), prediction_log=log)
    with TestClient(create_app(gateway, on_shutdown=log.stop)) as test_client:
        yield test_client, gateway, sink


def triton_request(
    frame: pd.DataFrame,
    as_json: tuple[str, ...] = (),
    outputs: list[Any] | None = None,
    tickets: str = "INT64",
) -> tuple[bytes, dict[str, str]]:
    """A request body and headers exactly as tritonclient's ``infer`` sends them."""
    types = {"tenure": "FP64", "spend": "FP64", "tickets": tickets}
    inputs = []
    for column in COLUMNS:
        tensor = InferInput(column, [len(frame)], types[column])
        tensor.set_data_from_numpy(frame[column].to_numpy(), binary_data=column not in as_json)
        inputs.append(tensor)
    body, length = _get_inference_request(
        inputs=inputs, request_id="req-2", outputs=outputs, sequence_id=0, sequence_start=False,
        sequence_end=False, priority=0, timeout=None, custom_parameters=None,
    )  # fmt: skip
    return body, {} if length is None else {"Inference-Header-Content-Length": str(length)}


def triton_result(response: Any) -> InferResult:
    length = response.headers.get("inference-header-content-length")
    return InferResult.from_response_body(response.content, header_length=length and int(length))


def test_binary_and_json_tensors_answer_like_pyfunc(
    oip: tuple[TestClient, Gateway, dict[str, bytes]], model: LoadedModel
) -> None:
    client, gateway, sink = oip
    frame = churn_rows(7)
    expected = model.pyfunc.predict(frame)
    for path in ("/v2/models/churn/infer", "/v2/models/churn/versions/7/infer"):
        body, headers = triton_request(frame, as_json=("spend",))
        answer = client.post(path, content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/octet-stream"
        length = int(answer.headers["inference-header-content-length"])
        [output] = json.loads(answer.content[:length])["outputs"]
        assert output["parameters"] == {"binary_data_size": 7 * 2 * 8} and "data" not in output
        assert len(answer.content) == length + 7 * 2 * 8
        np.testing.assert_allclose(triton_result(answer).as_numpy("predict_proba"), expected)
    as_json = [InferRequestedOutput("predict_proba", binary_data=False)]
    body, headers = triton_request(frame, outputs=as_json)
    answer = client.post("/v2/models/churn/infer", content=body, headers=headers)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert "inference-header-content-length" not in answer.headers
    np.testing.assert_allclose(triton_result(answer).as_numpy("predict_proba"), expected)
    # Null parameters (some clients send them) mean none.
    nulls = {**v2_body(frame), "parameters": None,
             "outputs": [{"name": "predict_proba", "parameters": None}]}  # fmt: skip
    answer = client.post("/v2/models/churn/infer", json=nulls)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    # All JSON in, binary out on request: binary outputs do not need binary inputs.
    plain = {**v2_body(frame), "parameters": {"binary_data_output": True}}
    answer = client.post("/v2/models/churn/infer", json=plain)
    np.testing.assert_allclose(triton_result(answer).as_numpy("predict_proba"), expected)
    # The same metrics and prediction log as JSON requests, the binary form apart: four
    # requests had binary tensors in or out, one was JSON only.
    metrics = client.get("/metrics").text
    assert 'code="200",model="churn",protocol="v2-binary",version="7"} 4.0' in metrics
    assert 'code="200",model="churn",protocol="v2",version="7"} 1.0' in metrics
    assert 'strata_gateway_predicted_rows_total{model="churn",version="7"} 35.0' in metrics
    assert gateway.prediction_log.flush() == 35
    [blob] = sink.values()
    table = pq.read_table(io.BytesIO(blob)).to_pandas()
    np.testing.assert_array_equal(table["tickets"].to_numpy()[:7], frame["tickets"].to_numpy())
    np.testing.assert_allclose(np.stack(table["prediction"].iloc[:7]), expected)


def test_metadata_declares_what_responses_carry(
    oip: tuple[TestClient, Gateway, dict[str, bytes]], tensor_model: LoadedModel
) -> None:
    client, _, _ = oip
    assert "binary_tensor_data" in client.get("/v2").json()["extensions"]
    for path in ("/v2/models/churn", "/v2/models/churn/versions/7"):
        meta = client.get(path).json()
        assert meta["outputs"] == [{"name": "predict_proba", "datatype": "FP64", "shape": [-1, 2]}]
        assert [(i["datatype"], i["shape"]) for i in meta["inputs"]] == [
            ("FP64", [-1]), ("FP64", [-1]), ("INT64", [-1])
        ]  # fmt: skip
    answer = client.post("/v2/models/churn/infer", json=v2_body(churn_rows(3))).json()
    [output] = answer["outputs"]
    declared = client.get("/v2/models/churn").json()["outputs"][0]
    assert output["datatype"] == declared["datatype"]
    assert output["shape"][1:] == declared["shape"][1:]
    assert client.get("/v2/models/churn/versions/7/ready").json()["ready"] is True
    assert client.get("/v2/models/churn/versions/6/ready").status_code == 404
    served = ServedModels()
    served.replace({"digits": tensor_model})
    gateway = Gateway(served=served, metrics=GatewayMetrics(), prediction_log=PredictionLog(None))
    with TestClient(create_app(gateway)) as tensors:
        meta = tensors.get("/v2/models/digits").json()
    assert meta["inputs"] == [{"name": "input-0", "datatype": "FP64", "shape": [-1, 3]}]
    assert meta["outputs"] == [{"name": "predict", "datatype": "INT64", "shape": [-1]}]


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"outputs": [{"name": "label"}]}, "output 'label' is not produced"),
        ({"parameters": {"binary_data_output": "yes"}}, "binary_data_output must be true"),
        ({"outputs": [{"name": "predict_proba", "parameters": {"binary_data": 1}}]},
         "output 'predict_proba': binary_data must be true or false"),
        ({"outputs": [{"name": "predict_proba", "parameters": {"classification": 2}}]},
         "classification is not supported"),
        ({"parameters": "binary"}, "'parameters' must be an object"),
        ({"outputs": {"name": "predict_proba"}}, "'outputs' must be a list"),
    ],
)  # fmt: skip
def test_a_bad_output_request_is_a_400_naming_it(
    oip: tuple[TestClient, Gateway, dict[str, bytes]], change: dict[str, Any], needle: str
) -> None:
    client, _, _ = oip
    answer = client.post("/v2/models/churn/infer", json={**v2_body(churn_rows(2)), **change})
    assert answer.status_code == 400 and needle in answer.json()["error"], answer.text


def test_a_frame_for_the_wrong_column_type_names_the_column(
    oip: tuple[TestClient, Gateway, dict[str, bytes]],
) -> None:
    client, _, _ = oip
    frame = churn_rows(3).astype({"tickets": "float64"})
    body, headers = triton_request(frame, tickets="FP64")
    answer = client.post("/v2/models/churn/infer", content=body, headers=headers)
    assert answer.status_code == 400
    assert "input 'tickets' (long): expected integers" in answer.json()["error"]


@settings(max_examples=200, deadline=None, database=None)
@given(
    body=st.binary(max_size=300),
    header=st.one_of(
        st.none(),
        st.integers(0, 400).map(str),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=6),
    ),
    sizes=st.lists(st.integers(-2, 40), min_size=3, max_size=3),
)
def test_no_frame_is_a_server_error(
    oip: tuple[TestClient, Gateway, dict[str, bytes]],
    body: bytes,
    header: str | None,
    sizes: list[int],
) -> None:
    """Random bytes, and near-valid frames for the model, are 4xx or a correct answer."""
    client, _, _ = oip
    headers = {} if header is None else {"Inference-Header-Content-Length": header}
    answer = client.post("/v2/models/churn/infer", content=body, headers=headers)
    assert 400 <= answer.status_code < 500, answer.text
    inputs = [
        {"name": c, "shape": [sizes[0] if sizes[0] >= 0 else 1], "datatype": t,
         "parameters": {"binary_data_size": n}}
        for c, t, n in zip(COLUMNS, ("FP64", "FP64", "INT64"), sizes, strict=True)
    ]  # fmt: skip
    header_blob = json.dumps({"inputs": inputs}).encode()
    framed = client.post(
        "/v2/models/churn/infer",
        content=header_blob + body,
        headers={"Inference-Header-Content-Length": str(len(header_blob))},
    )
    if framed.status_code == 200:
        assert len(body) == sum(sizes) == 3 * 8 * sizes[0] > 0
    else:
        assert 400 <= framed.status_code < 500 and framed.json()["error"], framed.text
