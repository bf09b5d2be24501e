"""The gateway as an Open Inference Protocol client library sees it, on the session's stack.

tritonclient's HTTP client, with its defaults (binary tensors both ways), against the real
gateway: health, metadata, and inference with binary and JSON tensors, each answer equal
to ``mlflow.pyfunc`` predictions of the same registered version. Then tritonclient's gRPC
client, with its defaults, against the gateway's gRPC port: it needs protobuf 6 while the
kit locks 7, so it runs in an environment of its own (``uv run --isolated``).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from ..helpers.models import wait_until_served
from ..helpers.stacks import RunningStack
from ..helpers.templates import tool

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
    grpc_address: str


@pytest.fixture(scope="module")
def registered(stack: RunningStack) -> Iterator[Registered]:
    alias = stack.contract.get("STRATA_SERVING_ALIAS", "production")
    done = stack.python(f"import sys; sys.argv = ['x', {MODEL!r}, {alias!r}]\n{REGISTER}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    probe = {c: np.asarray(found["probe"][c], dtype=np.float64) for c in TYPES}
    probe["tickets"] = probe["tickets"].astype(np.int64)
    url = stack.contract["STRATA_SERVING_URL"]
    served = Registered(
        found["version"],
        probe,
        np.asarray(found["expected"]),
        url,
        stack.contract["STRATA_SERVING_GRPC_ADDRESS"],  # the session's stack has gRPC on
    )
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


#: tritonclient's gRPC client, pinned, in an environment of its own.
GRPC_CLIENT = ("tritonclient[grpc]==2.73.0", "numpy>=1.26")
#: What the gRPC client does with its defaults (raw tensor contents both ways); prints JSON.
GRPC_CALLS = """
import json, sys
import numpy as np
import tritonclient.grpc as triton
from tritonclient.utils import InferenceServerException

address, model, version, probe = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
types = {"tenure": "FP64", "spend": "FP64", "tickets": "INT64"}
client = triton.InferenceServerClient(address)

def tensors(data):
    made = []
    for name, datatype in types.items():
        array = np.asarray(data[name], dtype=np.float64 if datatype == "FP64" else np.int64)
        tensor = triton.InferInput(name, list(array.shape), datatype)
        tensor.set_data_from_numpy(array)
        made.append(tensor)
    return made

def failure(**options):
    try:
        client.infer(model, **options)
    except InferenceServerException as exc:
        return [exc.status(), exc.message()]
    return None

other = str(int(version) + 100)
result = client.infer(model, tensors(probe))
asked = client.infer(model, tensors(probe), model_version=version,
                     outputs=[triton.InferRequestedOutput("predict_proba")])
print(json.dumps({
    "live": client.is_server_live(), "ready": client.is_server_ready(),
    "ready_as_asked": [client.is_model_ready(model), client.is_model_ready(model, version),
                       client.is_model_ready(model, other), client.is_model_ready("no_such")],
    "server": client.get_server_metadata(as_json=True),
    "metadata": client.get_model_metadata(model, as_json=True),
    "predictions": result.as_numpy("predict_proba").tolist(),
    "answered_by": result.get_response(as_json=True)["model_version"],
    "asked": asked.as_numpy("predict_proba").tolist(),
    "other_version": failure(inputs=tensors(probe), model_version=other),
    "short_tickets": failure(inputs=tensors({**probe, "tickets": probe["tickets"][:3]})),
    "still_live": client.is_server_live(),
}))
"""


def test_grpc_client_with_its_defaults_equals_pyfunc(registered: Registered) -> None:
    probe = {name: values.tolist() for name, values in registered.probe.items()}
    with_client = [f"--with={requirement}" for requirement in GRPC_CLIENT]
    done = subprocess.run(
        [tool("uv"), "run", "--isolated", "--no-project", "--python", "3.11", *with_client,
         "python", "-c", GRPC_CALLS, registered.grpc_address, MODEL, registered.version,
         json.dumps(probe)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["live"] and seen["ready"] and seen["still_live"]
    assert seen["ready_as_asked"] == [True, True, False, False]
    assert seen["server"]["name"] == "stratakit-gateway"
    metadata = seen["metadata"]
    assert metadata["versions"] == [registered.version]
    # protobuf's JSON writes int64 as strings
    assert [(i["name"], i["datatype"], i["shape"]) for i in metadata["inputs"]] == [
        (name, datatype, ["-1"]) for name, datatype in TYPES.items()
    ]
    assert [(o["name"], o["datatype"], o["shape"]) for o in metadata["outputs"]] == [
        ("predict_proba", "FP64", ["-1", "2"])
    ]
    assert seen["answered_by"] == registered.version
    for answer in (seen["predictions"], seen["asked"]):
        np.testing.assert_allclose(answer, registered.expected, rtol=1e-9)
    status, message = seen["other_version"]
    assert status == "StatusCode.NOT_FOUND" and "is not served" in message
    status, message = seen["short_tickets"]
    assert status == "StatusCode.INVALID_ARGUMENT" and "tickets" in message
