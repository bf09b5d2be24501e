"""The serving gateway on a real stack: models registered and promoted the way projects do it,
served over both protocols, swapped under load, fuzzed, metered and logged to the bucket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from stratakit.stack.ports import free_port
from stratakit.stack.services import SERVICES
from stratakit.stack.state import new_state, save_state

from ..helpers.projects import make_project, strata
from ..helpers.stacks import RunningStack, launch, shut_down

pytestmark = pytest.mark.e2e

MODEL = "churn"
COLUMNS = ("tenure", "spend", "tickets")
#: What the gateway tests need of their project: fast polls and flushes, and a gate.
SERVING_SETTINGS = (
    "[tool.strata.serving]\npoll_seconds = 0.5\nlog_flush_seconds = 1\n"
    "[tool.strata.quality_gate]\nauc = { min = 0.7 }\n"
)
PROBE = {"tenure": [0.5, -1.0, 2.0], "spend": [1.2, 0.3, -0.7], "tickets": [2, 0, 4]}

REGISTER = """
import json, sys, tempfile
from pathlib import Path
import mlflow, numpy as np, pandas as pd
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from stratakit.registry.lineage import tree_sha256

probe = pd.DataFrame(json.loads(sys.argv[2]))
mlflow.set_experiment("gateway-tests")
out = []
for args in json.loads(sys.argv[1]):
    rng = np.random.default_rng(args["seed"])
    X = pd.DataFrame({"tenure": rng.normal(size=300), "spend": rng.normal(size=300),
                      "tickets": rng.integers(0, 5, 300)})
    y = ((X.tenure + args["sign"] * X.spend) > 0).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            model, name="model", signature=infer_signature(X, model.predict_proba(X)),
            input_example=X.head(3), pyfunc_predict_fn="predict_proba",
            pip_requirements=["scikit-learn"])
        mlflow.log_metric("auc", args["auc"])
    with tempfile.TemporaryDirectory() as scratch:
        digest = tree_sha256(Path(mlflow.artifacts.download_artifacts(info.model_uri,
                                                                      dst_path=scratch)))
    version = mlflow.register_model(info.model_uri, "churn",
                                    tags={"strata.artifact_sha256": digest}).version
    direct = mlflow.pyfunc.load_model(f"models:/churn/{version}").predict(probe)
    out.append({"version": str(version), "source": info.model_uri,
                "expected": np.asarray(direct).tolist()})
print(json.dumps(out))
"""


class Served:
    """The module's stack and helpers to register, promote and call the gateway."""

    def __init__(self, stack: RunningStack) -> None:
        self.stack = stack
        self.root = stack.project.root
        self.url = stack.contract["STRATA_SERVING_URL"]
        self.http = httpx.Client(base_url=self.url, timeout=30)
        self.expected: dict[str, list[list[float]]] = {}

    def register(self, *models: dict[str, Any]) -> list[str]:
        code = (
            f"import sys; sys.argv = ['x', {json.dumps(list(models))!r}, "
            f"{json.dumps(PROBE)!r}]\n{REGISTER}"
        )
        found = json.loads(self.stack.python(code).stdout.strip().splitlines()[-1])
        for item in found:
            self.expected[item["version"]] = item["expected"]
        return [item["version"] for item in found]

    def promote(self, version: str) -> None:
        done = strata(
            "model",
            "promote",
            MODEL,
            version,
            "--to",
            "production",
            "-m",
            "test",
            "-C",
            str(self.root),
            cwd=self.root,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def wait_for_version(self, version: str, limit_s: float = 90) -> float:
        started = time.monotonic()
        while time.monotonic() - started < limit_s:
            answer = self.http.get(f"/v2/models/{MODEL}")
            if answer.status_code == 200 and answer.json()["versions"] == [version]:
                return time.monotonic() - started
            time.sleep(0.2)
        log = self.gateway_log()[-3000:]
        raise AssertionError(f"{MODEL} v{version} not served within {limit_s}s:\n{log}")

    def gateway_log(self, lines: int = 5000) -> str:
        """The gateway's log as `strata stack logs gateway` shows it, in either profile."""
        done = strata("stack", "logs", "gateway", "--lines", str(lines), "-C", str(self.root),
                      cwd=self.root)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def infer_v2(self, data: dict[str, list[Any]]) -> httpx.Response:
        types = {"tenure": "FP64", "spend": "FP64", "tickets": "INT64"}
        inputs = [
            {"name": c, "shape": [len(v)], "datatype": types.get(c, "FP64"), "data": v}
            for c, v in data.items()
        ]
        return self.http.post(f"/v2/models/{MODEL}/infer", json={"inputs": inputs})


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    project = make_project(tmp_path_factory.mktemp("gateway") / "serving", "serving")
    with (project.root / "pyproject.toml").open("a") as pyproject:
        pyproject.write(SERVING_SETTINGS)
    state = new_state(project.slug, project.bucket)
    state.ports = {name: free_port() for name in SERVICES}
    save_state(project.state_file, state)
    stack = launch(project)
    try:
        yield Served(stack)
    finally:
        shut_down(project)


@pytest.fixture(scope="module")
def first(served: Served) -> str:
    """Version 1, promoted and served."""
    [version] = served.register({"seed": 1, "sign": 1, "auc": 0.9})
    served.promote(version)
    served.wait_for_version(version)
    return version


def test_both_protocols_answer_like_the_model(served: Served, first: str) -> None:
    expected = np.array(served.expected[first])
    v2 = served.infer_v2(PROBE)
    assert v2.status_code == 200, v2.text
    [output] = v2.json()["outputs"]
    assert v2.json()["model_version"] == first
    np.testing.assert_allclose(np.reshape(output["data"], output["shape"]), expected, rtol=1e-9)
    records = [dict(zip(PROBE, row, strict=True)) for row in zip(*PROBE.values(), strict=True)]
    for path in ("/invocations", f"/models/{MODEL}/invocations"):
        answer = served.http.post(path, json={"dataframe_records": records})
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-model-version"] == first
        np.testing.assert_allclose(answer.json()["predictions"], expected, rtol=1e-9)
    meta = served.http.get(f"/v2/models/{MODEL}").json()
    assert meta["parameters"]["fast_path"] is True
    assert [i["name"] for i in meta["inputs"]] == list(COLUMNS)


def test_verify_checks_what_the_gateway_serves(served: Served, first: str) -> None:
    done = strata(
        "model", "verify", f"{MODEL}/{first}", "-f", "json", "-C", str(served.root),
        cwd=served.root,
    )  # fmt: skip
    findings = {f["check"]: f for f in json.loads(done.stdout)["findings"]}
    assert findings["serving"]["level"] == "ok", findings
    assert "serves this version" in findings["serving"]["detail"]
    assert findings["artifact"]["level"] == "ok"


BAD: list[tuple[str, dict[str, Any]]] = [
    ("wrong type", {"json": {"dataframe_records": [{"tenure": "a", "spend": 1.0, "tickets": 1}]}}),
    ("missing field", {"json": {"dataframe_records": [{"tenure": 1.0, "tickets": 1}]}}),
    (
        "extra field",
        {"json": {"dataframe_records": [{"tenure": 1.0, "spend": 1, "tickets": 1, "vip": 1}]}},
    ),
    ("empty body", {"content": b""}),
    ("non-JSON", {"content": b"tenure=1&spend=2"}),
    ("huge body", {"content": b"[" + b"1," * 5_000_000 + b"1]"}),
    (
        "float for an integer",
        {"json": {"dataframe_records": [{"tenure": 1, "spend": 1, "tickets": 0.5}]}},
    ),
    ("no rows", {"json": {"dataframe_records": []}}),
]


@pytest.mark.parametrize(("case", "request_kwargs"), BAD, ids=[case for case, _ in BAD])
def test_bad_input_is_a_4xx_naming_the_problem(
    served: Served, first: str, case: str, request_kwargs: dict[str, Any]
) -> None:
    answer = served.http.post("/invocations", **request_kwargs)
    assert 400 <= answer.status_code < 500, (case, answer.status_code, answer.text)
    message = answer.json()["message"]
    if "field" in case or "type" in case or "integer" in case:
        named = {"wrong type": "'tenure'", "missing field": "'spend'", "extra field": "'vip'"}
        assert named.get(case, "'tickets'") in message
    assert served.http.get("/v2/health/live").status_code == 200


def test_bad_v2_input_is_a_4xx(served: Served, first: str) -> None:
    for data, needle in (
        ({**PROBE, "tenure": ["x", "y", "z"]}, "'tenure'"),
        ({"tenure": PROBE["tenure"], "spend": PROBE["spend"]}, "'tickets'"),
        ({**PROBE, "coupon": [1.0, 2.0, 3.0]}, "'coupon'"),
        ({**PROBE, "spend": [1.0]}, "'spend'"),
    ):
        answer = served.infer_v2(data)
        assert answer.status_code == 400 and needle in answer.json()["error"], answer.text


def test_schemathesis_finds_no_server_error(served: Served, first: str, tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text("[cache]\nenabled = false\n")
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(config),
            "run",
            f"{served.url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--mode",
            "all",
            "--max-examples",
            "40",
            "--seed",
            "42",
            "--request-timeout",
            "10",
            "--generation-database",
            "none",
            "--wait-for-schema",
            "15",
        ],
        cwd=tmp_path,
        env={
            **os.environ,
            "HYPOTHESIS_STORAGE_DIRECTORY": str(tmp_path / "hypothesis"),
            "NO_COLOR": "1",
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert f"/v2/models/{MODEL}/infer" in done.stdout  # the model's own operation was tested
    assert served.http.get("/v2/health/live").status_code == 200


def test_hot_swap_under_load_fails_no_request(served: Served, first: str) -> None:
    [second] = served.register({"seed": 2, "sign": -1, "auc": 0.95})
    assert not np.allclose(served.expected[first], served.expected[second])
    stop = threading.Event()
    results: list[tuple[int, str, list[float]]] = []
    failures: list[str] = []

    def client() -> None:
        with httpx.Client(base_url=served.url, timeout=30) as http:
            inputs = [
                {"name": "tenure", "shape": [3], "datatype": "FP64", "data": PROBE["tenure"]},
                {"name": "spend", "shape": [3], "datatype": "FP64", "data": PROBE["spend"]},
                {"name": "tickets", "shape": [3], "datatype": "INT64", "data": PROBE["tickets"]},
            ]
            while not stop.is_set():
                try:
                    answer = http.post(f"/v2/models/{MODEL}/infer", json={"inputs": inputs})
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))
                    continue
                body = answer.json()
                if answer.status_code != 200:
                    failures.append(answer.text)
                    continue
                results.append(
                    (answer.status_code, body["model_version"], body["outputs"][0]["data"])
                )

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1)
        served.promote(second)
        swap_s = served.wait_for_version(second)
        time.sleep(1.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not failures, failures[:5]
    versions = [version for _, version, _ in results]
    assert versions[0] == first and versions[-1] == second
    assert swap_s < 30
    for _, version, data in results:
        np.testing.assert_allclose(np.reshape(data, (3, 2)), served.expected[version], rtol=1e-9)


def test_metrics_and_prediction_log(served: Served, first: str) -> None:
    for _ in range(5):
        assert served.infer_v2(PROBE).status_code == 200
    assert served.http.post("/invocations", json={"dataframe_records": [{}]}).status_code == 400
    version = served.http.get(f"/v2/models/{MODEL}").json()["versions"][0]
    metrics = served.http.get("/metrics").text
    assert (
        f'strata_gateway_model_info{{fast_path="true",model="{MODEL}",version="{version}"}} 1.0'
        in metrics
    )
    assert f'code="200",model="{MODEL}",protocol="v2",version="{version}"' in metrics
    assert f'code="400",model="{MODEL}",protocol="invocations"' in metrics
    assert "strata_gateway_request_duration_seconds_bucket" in metrics
    listing = served.stack.python(
        """
        import boto3, io, os, time, json
        import pandas as pd
        import pyarrow.parquet as pq
        s3 = boto3.client("s3")
        bucket = os.environ["STRATA_BUCKET"]
        # The requests may straddle a flush: read until all their rows are stored.
        for _ in range(60):
            keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix="predictions/churn/") for o in page.get("Contents", [])]
            frames = [pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=k)["Body"].read()))
                      .to_pandas() for k in keys]
            if sum(len(f) for f in frames) >= 15:
                break
            time.sleep(0.5)
        table = pd.concat(frames) if frames else pd.DataFrame()
        print(json.dumps({"keys": keys, "columns": list(table.columns), "rows": len(table)}))
        """
    )
    found = json.loads(listing.stdout.strip().splitlines()[-1])
    assert found["keys"], "no prediction log file in the bucket"
    assert all("/version=" in key and "/date=" in key for key in found["keys"])
    assert {"request_time", "request_id", "protocol", *COLUMNS, "prediction"} <= set(
        found["columns"]
    )
    assert found["rows"] >= 15  # five requests of three rows, at least


def test_a_tampered_version_is_not_served(served: Served, first: str) -> None:
    before = served.http.get(f"/v2/models/{MODEL}").json()["versions"][0]
    [third] = served.register({"seed": 3, "sign": 1, "auc": 0.9})
    source = (
        served.stack.python(f"""
        import mlflow
        print(mlflow.MlflowClient().get_model_version("{MODEL}", "{third}").source)
    """)
        .stdout.strip()
        .splitlines()[-1]
    )
    model_id = source.removeprefix("models:/")
    served.stack.python(
        f"""
        import boto3, os
        s3 = boto3.client("s3")
        bucket = os.environ["STRATA_BUCKET"]
        keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                for o in page.get("Contents", [])]
        [key] = [k for k in keys if "{model_id}" in k and k.rsplit("/", 1)[1].startswith("model.")]
        s3.put_object(Bucket=bucket, Key=key, Body=b"not the model that was validated")
        """
    )
    served.promote(third)
    deadline = time.monotonic() + 60
    metrics = ""
    while time.monotonic() < deadline:
        metrics = served.http.get("/metrics").text
        if f'strata_gateway_model_loads_total{{model="{MODEL}",outcome="failed"}}' in metrics:
            break
        time.sleep(0.5)
    assert f'model="{MODEL}",outcome="failed"' in metrics
    # The validated version keeps serving; the tampered one never answers a request, and
    # the gateway says which version it refused and why.
    meta = served.http.get(f"/v2/models/{MODEL}").json()
    assert meta["versions"] == [before]
    assert meta["parameters"]["refused_version"] == third
    assert "differs from its lineage tag" in meta["parameters"]["refused_because"]
    assert served.http.get("/v2").json()["refused"] == {MODEL: third}
    assert served.infer_v2(PROBE).json()["model_version"] == before
    log = served.gateway_log()
    assert f"not serving {MODEL}/{third}" in log and "differs from its lineage tag" in log
    verified = strata(
        "model", "verify", f"{MODEL}@production", "-f", "json", "-C", str(served.root),
        cwd=served.root,
    )  # fmt: skip
    findings = {f["check"]: f for f in json.loads(verified.stdout)["findings"]}
    assert verified.returncode == 1 and findings["artifact"]["level"] == "fail"
    assert findings["serving"]["detail"] == f"the gateway serves version {before}"
