"""`strata monitor` on a real stack: traffic through the real gateway, the prediction log in the
bucket, the training reference found in DVC's remote from the version's lineage tags alone."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import httpx
import numpy as np
import pandas as pd
import pytest
import yaml

from ..helpers import prometheus
from ..helpers.projects import KIT_ROOT, strata
from ..helpers.stacks import RunningStack

pytestmark = pytest.mark.e2e

MODEL = "monitored"
FEATURES = ("tenure", "spend", "tickets", "plan")
PLANS = ("basic", "plus", "pro")

REGISTER = """
import json, sys, tempfile
from pathlib import Path
import mlflow, pandas as pd
from mlflow.models import infer_signature
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from stratakit.registry.lineage import tree_sha256

frame = pd.read_parquet(sys.argv[1])
X, y = frame[["tenure", "spend", "tickets", "plan"]], frame["label"]
model = make_pipeline(
    make_column_transformer(
        (StandardScaler(), ["tenure", "spend", "tickets"]),
        (OneHotEncoder(handle_unknown="ignore"), ["plan"]),
    ),
    LogisticRegression(),
).fit(X, y)
mlflow.set_experiment("monitor-tests")
with mlflow.start_run():
    info = mlflow.sklearn.log_model(model, name="model", signature=infer_signature(X, y),
                                    pip_requirements=["scikit-learn"])
with tempfile.TemporaryDirectory() as scratch:
    digest = tree_sha256(Path(mlflow.artifacts.download_artifacts(info.model_uri,
                                                                  dst_path=scratch)))
tags = {"strata.artifact_sha256": digest, "strata.features": "tenure,spend,tickets,plan",
        f"strata.data.{sys.argv[2]}": sys.argv[3]}
version = mlflow.register_model(info.model_uri, "monitored", tags=tags).version
mlflow.MlflowClient().set_registered_model_alias("monitored", "production", version)
print(json.dumps({"version": str(version)}))
"""


def draw(rows: int, seed: int, shift: float = 0.0, unseen: float = 0.0) -> pd.DataFrame:
    """Rows of the training distribution; ``shift`` moves tenure and spend by that many SDs."""
    rng = np.random.default_rng(seed)
    plans = rng.choice(PLANS, rows).astype(object)
    plans[rng.random(rows) < unseen] = "enterprise"
    return pd.DataFrame(
        {
            "tenure": rng.normal(24.0, 6.0, rows) + shift * 6.0,
            "spend": rng.normal(70.0, 15.0, rows) + shift * 15.0,
            "tickets": rng.integers(0, 6, rows).astype("int64"),
            "plan": plans,
        }
    )


@dataclass
class Monitored:
    stack: RunningStack
    version: str
    http: httpx.Client

    @property
    def root(self) -> Path:
        return self.stack.project.root

    def send(self, frame: pd.DataFrame, batch: int = 100) -> None:
        for start in range(0, len(frame), batch):
            part = frame.iloc[start : start + batch]
            body = {"dataframe_split": {"columns": list(part.columns),
                                        "data": part.to_numpy().tolist()}}  # fmt: skip
            answer = self.http.post(f"/models/{MODEL}/invocations", json=body)
            assert answer.status_code == 200, answer.text

    def drift(self, *args: str) -> tuple[int, dict[str, Any]]:
        done = strata("monitor", "drift", *args, "-f", "json", "-C", str(self.root),
                      cwd=self.root, timeout=180)  # fmt: skip
        assert done.returncode in (0, 1), done.stdout + done.stderr
        return done.returncode, json.loads(done.stdout)

    def wait_logged(self, rows: int, limit_s: float = 90) -> None:
        """Until the gateway's prediction log holds ``rows`` rows of the version."""
        import pyarrow.parquet as pq

        s3 = boto3.session.Session().client("s3")
        bucket, prefix = self.stack.bucket, f"predictions/{MODEL}/version={self.version}/"
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", ())
            blobs = [s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed]
            if sum(pq.ParquetFile(io.BytesIO(b)).metadata.num_rows for b in blobs) >= rows:
                return
            time.sleep(1)
        raise AssertionError(f"the prediction log did not reach {rows} rows in {limit_s}s")


def _dvc(root: Path, env: dict[str, str], *args: str) -> str:
    dvc = str(Path(sys.executable).parent / "dvc")
    done = subprocess.run([dvc, *args], cwd=root, env=env, capture_output=True, text=True,
                          check=False, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def monitored(stack: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Monitored]:
    """A version trained on DVC-tracked data (pushed to the bucket, local cache dropped),
    tagged as projects tag it, promoted and served by the gateway."""
    root = stack.project.root
    added = [root / name for name in (".dvc", ".dvcignore", "monitor-data")]
    reference = draw(2_000, seed=1)
    reference["label"] = ((reference.tenure - 24) / 6 + (reference.spend - 70) / 15 > 0).astype(
        "int64"
    )
    (root / "monitor-data" / "train").mkdir(parents=True)
    reference.to_parquet(root / "monitor-data" / "train" / "customers.parquet", index=False)
    (root / "monitor-data" / "train" / "README.txt").write_text("not a table\n")
    env = stack.env()
    site_cache = tmp_path_factory.mktemp("monitor-dvc-site")
    _dvc(root, env, "init", "-q", "--no-scm")
    _dvc(root, env, "config", "core.site_cache_dir", str(site_cache))
    _dvc(root, env, "remote", "add", "-d", "store", f"s3://{stack.bucket}/dvc")
    _dvc(root, env, "add", "-q", "monitor-data/train")
    _dvc(root, env, "push", "-q")
    md5 = str(yaml.safe_load((root / "monitor-data" / "train.dvc").read_text())["outs"][0]["md5"])
    shutil.rmtree(root / ".dvc" / "cache")  # the reference must come from the remote
    table = str(root / "monitor-data" / "train" / "customers.parquet")
    code = f"import sys; sys.argv = ['x', {table!r}, 'monitor-data/train', {md5!r}]\n{REGISTER}"
    version = json.loads(stack.python(code).stdout.strip().splitlines()[-1])["version"]
    http = httpx.Client(base_url=stack.contract["STRATA_SERVING_URL"], timeout=30)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        meta = http.get(f"/v2/models/{MODEL}")
        if meta.status_code == 200 and meta.json()["versions"] == [version]:
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"the gateway did not serve {MODEL} v{version}")
    try:
        yield Monitored(stack, version, http)
    finally:
        http.close()
        for path in added:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)


def test_traffic_like_training_has_not_drifted_and_a_small_window_is_not_enough(
    monitored: Monitored, contract_env: RunningStack
) -> None:
    monitored.send(draw(600, seed=2))
    monitored.wait_logged(600)
    code, report = monitored.drift(MODEL, "--last", "600")
    assert code == 0, [
        (c["column"], c["value"], c["reasons"], c["verdict"]) for c in report["columns"]
    ]
    assert report["verdict"] == "ok"
    assert report["version"] == monitored.version and "production" in report["aliases"]
    assert report["rows"] == 600
    assert report["reference"]["data_path"] == "monitor-data/train"
    assert report["reference"]["rows"] == 2_000
    assert report["reference"]["files"] == ["monitor-data/train/customers.parquet"]
    columns = {c["column"]: c for c in report["columns"]}
    assert set(columns) == {*FEATURES, "prediction"}
    assert {c["verdict"] for c in columns.values()} == {"ok"}, columns
    assert columns["tenure"]["kind"] == "numeric" and columns["plan"]["kind"] == "categorical"
    assert columns["prediction"]["kind"] == "categorical"  # class labels

    code, small = monitored.drift(f"{MODEL}/{monitored.version}", "--last", "50", "--no-store")
    assert code == 0
    assert small["verdict"] == "not enough data"
    assert {c["verdict"] for c in small["columns"]} == {"not enough data"}


def test_two_shifted_features_drift_exactly_and_the_report_is_kept(
    monitored: Monitored, contract_env: RunningStack
) -> None:
    def reports() -> list[str]:
        s3 = boto3.session.Session().client("s3")
        listed = s3.list_objects_v2(Bucket=monitored.stack.bucket, Prefix=f"monitoring/{MODEL}/")
        return [o["Key"] for o in listed.get("Contents", ()) if "/drift-" in o["Key"]]

    before = reports()
    monitored.send(draw(600, seed=3, shift=1.5))
    monitored.wait_logged(1_200)
    code, report = monitored.drift(f"{MODEL}@production", "--last", "600", "--emit")
    assert code == 1, report
    assert report["verdict"] == "drift"
    features = [c for c in report["drifted"] if c in FEATURES]
    assert sorted(features) == ["spend", "tenure"], report["columns"]

    # The event flows can be triggered by reached the scheduler, about the project.
    api = monitored.stack.contract["PREFECT_API_URL"]
    query = {"filter": {"event": {"name": ["strata.drift.detected"]}}, "limit": 5}
    deadline, events = time.monotonic() + 30, []
    while time.monotonic() < deadline and not events:
        events = httpx.post(f"{api}/events/filter", json=query, timeout=10).json()["events"]
        time.sleep(0.5)
    [event] = events
    assert (
        event["resource"]["prefect.resource.id"] == f"strata.project.{monitored.stack.project.slug}"
    )
    assert event["payload"]["model"] == MODEL and event["payload"]["version"] == monitored.version
    assert sorted(event["payload"]["drifted"]) == sorted(report["drifted"])

    s3 = boto3.session.Session().client("s3")
    html_key = report["stored"]["html"].removeprefix(f"s3://{monitored.stack.bucket}/")
    html = s3.get_object(Bucket=monitored.stack.bucket, Key=html_key)["Body"].read().decode()
    assert "<img" in html and "tenure" in html and ">drift<" in html
    assert len(reports()) == len(before) + 2  # JSON and HTML

    import mlflow

    client = mlflow.MlflowClient()
    version = client.get_model_version(MODEL, monitored.version)
    assert version.tags["strata.monitor.verdict"] == "drift"
    assert set(version.tags["strata.monitor.drifted"].split(",")) >= {"tenure", "spend"}
    logged = [a.path for a in client.list_artifacts(version.run_id, "monitoring")]
    assert report["stored"]["mlflow"].endswith(logged[-1].split("/")[-1]), logged

    done = strata("monitor", "status", "-f", "json", "-C", str(monitored.root),
                  cwd=monitored.root)  # fmt: skip
    assert done.returncode == 0, done.stderr
    [row] = [r for r in json.loads(done.stdout) if r["model"] == MODEL]
    assert row["version"] == monitored.version
    assert row["requests"] >= 12  # 1,200 rows in batches of 100
    assert row["verdict"] == "drift" and row["p99_ms"] is not None
    stack = strata("stack", "status", "-f", "json", "-C", str(monitored.root), cwd=monitored.root)
    traffic = json.loads(stack.stdout)["gateway_traffic"]
    assert traffic["requests"] >= 12 and traffic["requests_per_second"] > 0, traffic
    assert 0 <= traffic["error_rate"] < 1
    table = strata("monitor", "status", "-C", str(monitored.root), cwd=monitored.root)
    assert table.returncode == 0 and MODEL in table.stdout and "drift" in table.stdout


def test_an_unseen_category_is_reported(monitored: Monitored, contract_env: RunningStack) -> None:
    monitored.send(draw(400, seed=4, unseen=0.05))
    monitored.wait_logged(1_600)
    _, report = monitored.drift(MODEL, "--last", "400", "--no-store")
    [plan] = [c for c in report["columns"] if c["column"] == "plan"]
    assert set(plan["unseen"]) == {"enterprise"}
    assert 5 <= plan["unseen"]["enterprise"] <= 40
    assert any("unseen" in reason for reason in plan["reasons"])


def test_bad_input_is_one_line_with_exit_2(monitored: Monitored) -> None:
    for args, needle in (
        (["nope-model"], "No registered model 'nope-model'"),
        ([MODEL, "--since", "yesterday"], "is not a duration"),
        ([MODEL, "--since", "1h", "--last", "5"], "not both"),
    ):
        done = strata("monitor", "drift", *args, "-C", str(monitored.root), cwd=monitored.root)
        assert done.returncode == 2, done.stdout + done.stderr
        assert needle in done.stderr and "Traceback" not in done.stderr


PROMETHEUS = KIT_ROOT / "infra" / "prometheus"


@pytest.fixture(scope="module")
def binaries(tmp_path_factory: pytest.TempPathFactory) -> prometheus.Binaries:
    return prometheus.unpack(tmp_path_factory.mktemp("prometheus"))


def test_the_alert_rules_pass_promtool(binaries: prometheus.Binaries) -> None:
    for args in (
        ["check", "config", "prometheus.yml"],
        ["check", "rules", "rules.yml"],
        ["test", "rules", "rules.test.yml"],
    ):
        done = subprocess.run([str(binaries.promtool), *args], cwd=PROMETHEUS,
                              capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "SUCCESS" in done.stdout + done.stderr


#: The shipped scrape jobs, and the contract variable of each service's address here.
SCRAPED = {
    "strata-gateway": "STRATA_SERVING_URL",
    "strata-mlflow": "MLFLOW_TRACKING_URI",
    "strata-prefect": "PREFECT_API_URL",
}


def test_prometheus_scrapes_the_platform_and_the_drift_alert_fires(
    monitored: Monitored, binaries: prometheus.Binaries, tmp_path: Path
) -> None:
    """Runs after the drift check above tagged the served version with its verdict.

    The shipped scrape configuration, with each target's in-network name replaced by the
    address of this stack's service: the gateway, MLflow and Prefect export metrics.
    """
    shipped = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    jobs = shipped["scrape_configs"]
    assert {job["job_name"] for job in jobs} == set(SCRAPED)
    for job in jobs:
        address = urlsplit(monitored.stack.contract[SCRAPED[job["job_name"]]]).netloc
        job["static_configs"] = [{"targets": [address]}]
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(PROMETHEUS / "rules.yml")],
        "scrape_configs": jobs,
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    with prometheus.running(
        binaries.prometheus, tmp_path / "prometheus.yml", tmp_path / "data"
    ) as url:
        deadline, firing, up = time.monotonic() + 60, [], []
        while time.monotonic() < deadline and not (firing and len(up) == len(SCRAPED)):
            query = {"query": 'up{job=~"strata-.*"} == 1'}
            up = httpx.get(f"{url}/api/v1/query", params=query, timeout=5).json()["data"]["result"]
            alerts = httpx.get(f"{url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
            firing = [
                a for a in alerts
                if a["labels"]["alertname"] == "StrataDriftDetected" and a["state"] == "firing"
                and a["labels"]["model"] == MODEL
            ]  # fmt: skip
            time.sleep(0.5)
        assert {r["metric"]["job"] for r in up} == set(SCRAPED), f"scraped: {up}"
        for name, metric in (("mlflow", "mlflow_http_request_total"),
                             ("prefect", "process_resident_memory_bytes")):  # fmt: skip
            query = {"query": f'{metric}{{job="strata-{name}"}}'}
            found = httpx.get(f"{url}/api/v1/query", params=query, timeout=5).json()
            assert found["data"]["result"], f"no {metric} from {name}"
        [alert] = firing
        assert alert["labels"]["version"] == monitored.version
        rules = httpx.get(f"{url}/api/v1/rules", timeout=5).json()["data"]["groups"]
        names = {rule["name"] for group in rules for rule in group["rules"]}
        assert names == {"StrataGatewayErrorRate", "StrataGatewayLatencyP99",
                         "StrataModelVersionRefused", "StrataPredictionLogLoss",
                         "StrataDriftDetected"}  # fmt: skip
