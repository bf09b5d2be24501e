"""The gateway as an Open Inference Protocol client library sees it, on the session's stack.

tritonclient's HTTP client, with its defaults (binary tensors both ways), against the real
gateway: health, metadata, and inference with binary and JSON tensors, each answer equal
to ``mlflow.pyfunc`` predictions of the same registered version.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from ..helpers.models import wait_until_served
from ..helpers.stacks import RunningStack

pytestmark = pytest.mark.e2e

MODEL = "oip_churn"
TYPES = {"tenure": "FP64", "spend": "FP64", "tickets": "INT64"}

#: Train, log and register a version as generated projects do; set the serving alias; and
#: predict a probe with the registered version through mlflow.pyfunc, for comparison.
REGISTER = """
import json, sys, tempfile
from pathlib import Path
import mlflow, numpy as np, pandas as pd
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from stratakit.registry.lineage import tree_sha256

name, alias = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(11)
X = pd.DataFrame({"tenure": rng.normal(size=300), "spend": rng.normal(size=300),
                  "tickets": rng.integers(0, 5, 300)})
model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, (X.tenure > X.spend))
mlflow.set_experiment("gateway-oip-tests")
with mlflow.start_run():
    info = mlflow.sklearn.log_model(
        model, name="model", signature=infer_signature(X, model.predict_proba(X)),
        input_example=X.head(3), pyfunc_predict_fn="predict_proba",
        pip_requirements=["scikit-learn"])
probe = X.sample(40, random_state=1).reset_index(drop=True)
with tempfile.TemporaryDirectory() as scratch:
    local = Path(mlflow.artifacts.download_artifacts(info.model_uri, dst_path=scratch))
    digest = tree_sha256(local)
    # The registered version's own files (the digest the gateway checks), through pyfunc.
    expected = mlflow.pyfunc.load_model(str(local)).predict(probe)
version = mlflow.register_model(info.model_uri, name,
                                tags={"strata.artifact_sha256": digest}).version
mlflow.MlflowClient().set_registered_model_alias(name, alias, version)
print(json.dumps({"version": str(version), "probe": probe.to_dict(orient="list"),
                  "expected": np.asarray(expected).tolist()}))
"""


@dataclass
class Registered:
    """The served version, a probe of its inputs and pyfunc's predictions of the probe."""

    version: str
    probe: dict[str, np.ndarray]
    expected: np.ndarray
    url: str


@pytest.fixture(scope="module")
def registered(stack: RunningStack) -> Iterator[Registered]:
    alias = stack.contract.get("STRATA_SERVING_ALIAS", "production")
    done = stack.python(f"import sys; sys.argv = ['x', {MODEL!r}, {alias!r}]\n{REGISTER}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    probe = {c: np.asarray(found["probe"][c], dtype=np.float64) for c in TYPES}
    probe["tickets"] = probe["tickets"].astype(np.int64)
    url = stack.contract["STRATA_SERVING_URL"]
    served = Registered(found["version"], probe, np.asarray(found["expected"]), url)
    wait_until_served(url, MODEL, served.version, timeout=60)
    try:
        yield served
    finally:  # leave the session's gateway serving what it served before
        dropped = httpx.request(
            "DELETE",
            f"{stack.contract['MLFLOW_TRACKING_URI']}/api/2.0/mlflow/registered-models/alias",
            json={"name": MODEL, "alias": alias},
            timeout=30,
        )
        assert dropped.status_code == 200, dropped.text


@pytest.fixture(scope="module")
def client(registered: Registered) -> Iterator[triton.InferenceServerClient]:
    """The library's client with its defaults (it takes host:port, without a scheme)."""
    connection = triton.InferenceServerClient(registered.url.removeprefix("http://"))
    try:
        yield connection
    finally:
        connection.close()


def inputs(probe: dict[str, np.ndarray], binary: tuple[str, ...] = tuple(TYPES)) -> list[object]:
    tensors = []
    for name, datatype in TYPES.items():
        tensor = triton.InferInput(name, list(probe[name].shape), datatype)
        if name in binary:
            tensor.set_data_from_numpy(probe[name])  # the default: binary data
        else:
            tensor.set_data_from_numpy(probe[name], binary_data=False)
        tensors.append(tensor)
    return tensors


def test_server_and_model_are_live_and_ready(
    client: triton.InferenceServerClient, registered: Registered
) -> None:
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready(MODEL)
    assert client.is_model_ready(MODEL, registered.version)
    assert not client.is_model_ready(MODEL, str(int(registered.version) + 100))
    assert not client.is_model_ready("no_such_model")
    assert "binary_tensor_data" in client.get_server_metadata()["extensions"]


def test_metadata_declares_what_inference_returns(
    client: triton.InferenceServerClient, registered: Registered
) -> None:
    for meta in (
        client.get_model_metadata(MODEL),
        client.get_model_metadata(MODEL, registered.version),
    ):
        assert meta["versions"] == [registered.version]
        assert [(i["name"], i["datatype"], i["shape"]) for i in meta["inputs"]] == [
            (name, datatype, [-1]) for name, datatype in TYPES.items()
        ]
        assert meta["outputs"] == [{"name": "predict_proba", "datatype": "FP64", "shape": [-1, 2]}]
    with pytest.raises(InferenceServerException, match="is not served"):
        client.get_model_metadata(MODEL, str(int(registered.version) + 100))


def test_binary_tensors_both_ways_equal_pyfunc(
    client: triton.InferenceServerClient, registered: Registered
) -> None:
    result = client.infer(MODEL, inputs(registered.probe))  # every default
    output = result.get_output("predict_proba")
    assert output["parameters"]["binary_data_size"] == registered.expected.size * 8
    assert "data" not in output
    assert result.get_response()["model_version"] == registered.version
    np.testing.assert_allclose(result.as_numpy("predict_proba"), registered.expected, rtol=1e-9)


def test_json_and_mixed_tensors_equal_pyfunc(
    client: triton.InferenceServerClient, registered: Registered
) -> None:
    as_json = [triton.InferRequestedOutput("predict_proba", binary_data=False)]
    for binary in ((), ("tickets",), ("tenure", "spend")):
        result = client.infer(
            MODEL,
            inputs(registered.probe, binary),
            model_version=registered.version,
            outputs=as_json,
        )
        output = result.get_output("predict_proba")
        assert "data" in output and "parameters" not in output
        got = result.as_numpy("predict_proba")
        np.testing.assert_allclose(got, registered.expected, rtol=1e-9)
    mixed_in_binary_out = client.infer(
        MODEL,
        inputs(registered.probe, ("spend",)),
        outputs=[triton.InferRequestedOutput("predict_proba")],
    )
    got = mixed_in_binary_out.as_numpy("predict_proba")
    np.testing.assert_allclose(got, registered.expected, rtol=1e-9)


def test_a_malformed_frame_is_a_400_naming_the_tensor(
    client: triton.InferenceServerClient, registered: Registered
) -> None:
    header = json.dumps(
        {
            "inputs": [
                {"name": name, "shape": [2], "datatype": datatype,
                 "parameters": {"binary_data_size": 16}}
                for name, datatype in TYPES.items()
            ]
        }
    ).encode()  # fmt: skip
    short = header + bytes(16 * 3 - 5)  # the last tensor's bytes are cut short
    answer = httpx.post(
        f"{registered.url}/v2/models/{MODEL}/infer",
        content=short,
        headers={"Inference-Header-Content-Length": str(len(header))},
        timeout=10,
    )
    assert answer.status_code == 400
    assert "input 'tickets'" in answer.json()["error"]
    with pytest.raises(InferenceServerException, match="input 'tickets'"):
        wrong = inputs({**registered.probe, "tickets": registered.probe["tickets"][:3]})
        client.infer(MODEL, wrong)
    assert client.is_server_live()
