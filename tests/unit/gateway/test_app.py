"""The gateway app in-process, around a real MLflow model folder (no servers)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from starlette.testclient import TestClient

from stratakit.errors import ModelLoadError
from stratakit.gateway.app import Gateway, create_app
from stratakit.gateway.batching import MicroBatcher
from stratakit.gateway.inputs import Batch
from stratakit.gateway.loading import LoadedModel, load_folder
from stratakit.gateway.metrics import GatewayMetrics
from stratakit.gateway.prediction_log import Entry, PredictionLog
from stratakit.gateway.watcher import ServedModels
from stratakit.registry.lineage import tree_sha256

from ...helpers.models import COLUMNS


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


def rows(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(n)
    return pd.DataFrame(
        {
            "tenure": rng.normal(size=n),
            "spend": rng.normal(size=n),
            "tickets": rng.integers(0, 5, n),
        }
    )


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
    frame = rows(20)
    batch = Batch(rows=20, columns={c: frame[c].to_numpy() for c in COLUMNS})
    np.testing.assert_allclose(model.predict(batch), model.pyfunc.predict(frame))


def test_both_protocols_answer_like_the_model(client: TestClient, model: LoadedModel) -> None:
    frame = rows(5)
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
    unknown = client.post("/v2/models/nope/infer", json=v2_body(rows(1)))
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
    client.post("/v2/models/churn/infer", json=v2_body(rows(3)))
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
    frame = rows(4)
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
