"""Key-only requests: the gateway fetches the features from a real Feast store (no servers)."""

from __future__ import annotations

import asyncio
import dataclasses
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from starlette.testclient import TestClient

from stratakit.errors import FeatureLookupError
from stratakit.gateway.app import Gateway, create_app
from stratakit.gateway.loading import LoadedModel
from stratakit.gateway.metrics import GatewayMetrics
from stratakit.gateway.online_features import open_lookup
from stratakit.gateway.prediction_log import PredictionLog
from stratakit.gateway.watcher import ServedModels

from ...helpers.models import COLUMNS

REFS = tuple(f"churn_features:{name}" for name in COLUMNS)
OLD, NEW = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def feature_table() -> pd.DataFrame:
    """Two monthly snapshots of 30 customers; the online store must serve the newer one."""
    rng = np.random.default_rng(11)
    frames = []
    for when in (OLD, NEW):
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": [f"C{i:03d}" for i in range(30)],
                    "event_timestamp": when,
                    "tenure": rng.normal(size=30),
                    "spend": rng.normal(size=30),
                    "tickets": rng.integers(0, 5, 30).astype("int64"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def feature_repo(tmp_path_factory: pytest.TempPathFactory, feature_table: pd.DataFrame) -> Path:
    """A Feast repository on local files: parquet offline, SQLite online, materialized."""
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource
    from feast.types import Float64, Int64
    from feast.value_type import ValueType

    root = tmp_path_factory.mktemp("features")
    table = root / "churn_features.parquet"
    feature_table.to_parquet(table, index=False)
    repo = root / "feature_repo"
    repo.mkdir()
    (repo / "feature_store.yaml").write_text(
        textwrap.dedent(
            f"""\
            project: gateway_test
            provider: local
            registry: {root / "registry.db"}
            online_store:
              type: sqlite
              path: {root / "online.db"}
            offline_store:
              type: dask
            entity_key_serialization_version: 3
            """
        )
    )
    customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.STRING)
    view = FeatureView(
        name="churn_features",
        entities=[customer],
        ttl=timedelta(days=60),
        schema=[
            Field(name="tenure", dtype=Float64),
            Field(name="spend", dtype=Float64),
            Field(name="tickets", dtype=Int64),
        ],
        source=FileSource(path=str(table), timestamp_field="event_timestamp"),
    )
    store = FeatureStore(repo_path=str(repo))
    store.apply([customer, view])
    store.materialize(start_date=OLD - timedelta(days=1), end_date=NEW + timedelta(days=1))
    return repo


@pytest.fixture(scope="module")
def keyed_model(model: LoadedModel, feature_repo: Path) -> LoadedModel:
    return dataclasses.replace(model, lookup=open_lookup(feature_repo, REFS, model.spec))


@pytest.fixture
def gateway(keyed_model: LoadedModel) -> Iterator[Gateway]:
    served = ServedModels()
    served.replace({"churn": keyed_model})
    served.ready = True
    log = PredictionLog(lambda key, data: None, flush_seconds=3600)
    yield Gateway(served=served, metrics=GatewayMetrics(), prediction_log=log)
    log.stop()


@pytest.fixture
def client(gateway: Gateway) -> Iterator[TestClient]:
    with TestClient(create_app(gateway)) as test_client:
        yield test_client


def _latest(feature_table: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    newest = feature_table[feature_table.event_timestamp == NEW].set_index("customer_id")
    return newest.loc[ids, COLUMNS].reset_index(drop=True)


def _invocations(client: TestClient, records: list[dict[str, Any]]) -> Any:
    response = client.post("/models/churn/invocations", json={"dataframe_records": records})
    assert response.status_code == 200, response.text
    return response.json()["predictions"]


def test_keys_alone_predict_like_the_latest_features_inline(
    client: TestClient, keyed_model: LoadedModel, feature_table: pd.DataFrame
) -> None:
    ids = ["C003", "C017", "C029"]
    inline = _latest(feature_table, ids)
    by_key = _invocations(client, [{"customer_id": c} for c in ids])
    assert by_key == _invocations(client, inline.to_dict(orient="records"))
    direct = keyed_model.pyfunc.predict(inline)
    np.testing.assert_allclose(np.asarray(by_key), direct, rtol=1e-12)
    older = feature_table[feature_table.event_timestamp == OLD].loc[:2, COLUMNS]
    assert by_key != _invocations(client, older.to_dict(orient="records"))


def test_open_inference_protocol_takes_keys_as_a_bytes_tensor(
    client: TestClient, feature_table: pd.DataFrame
) -> None:
    body = {
        "inputs": [
            {"name": "customer_id", "datatype": "BYTES", "shape": [2], "data": ["C001", "C002"]}
        ]
    }
    response = client.post("/v2/models/churn/infer", json=body)
    assert response.status_code == 200, response.text
    data = response.json()["outputs"][0]["data"]
    inline = _latest(feature_table, ["C001", "C002"]).to_dict(orient="records")
    assert np.ravel(_invocations(client, inline)).tolist() == data


def test_an_unknown_entity_is_a_404_that_names_it(client: TestClient) -> None:
    response = client.post(
        "/models/churn/invocations",
        json={"dataframe_records": [{"customer_id": "C001"}, {"customer_id": "C999"}]},
    )
    assert response.status_code == 404
    assert "customer_id='C999' (row 1)" in response.json()["message"]


def test_a_request_that_is_neither_features_nor_keys_names_both(client: TestClient) -> None:
    response = client.post(
        "/models/churn/invocations", json={"dataframe_records": [{"customer": "C001"}]}
    )
    assert response.status_code == 400
    message = response.json()["message"]
    assert "unexpected input 'customer'" in message
    assert "or send only the entity key(s) customer_id" in message


def test_refs_that_do_not_cover_the_inputs_are_refused(
    model: LoadedModel,
    feature_repo: Path,
) -> None:
    with pytest.raises(FeatureLookupError, match="tickets"):
        open_lookup(feature_repo, REFS[:2], model.spec)
    with pytest.raises(FeatureLookupError, match="no_such_view"):
        open_lookup(feature_repo, (*REFS[:2], "no_such_view:tickets"), model.spec)
    with pytest.raises(FeatureLookupError, match=r"feature_store\.yaml"):
        open_lookup(feature_repo.parent, REFS, model.spec)


def test_concurrent_key_requests_share_store_calls(
    gateway: Gateway, client: TestClient, feature_table: pd.DataFrame
) -> None:
    ids = [f"C{i:03d}" for i in range(20)]

    async def send_all() -> list[Any]:
        transport = httpx.ASGITransport(app=create_app(gateway))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            responses = await asyncio.gather(
                *(
                    http.post(
                        "/models/churn/invocations",
                        json={"dataframe_records": [{"customer_id": c}]},
                    )
                    for c in ids
                )
            )
        return [r.json()["predictions"][0] for r in responses]

    answers = asyncio.run(send_all())
    inline = _invocations(client, _latest(feature_table, ids).to_dict(orient="records"))
    assert answers == inline
    batcher = gateway.lookups["churn"][1]
    assert batcher.requests >= len(ids)
    assert batcher.calls < batcher.requests
