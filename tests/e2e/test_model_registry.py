"""`strata model`: describe, verify, promote through the quality gate, and roll back, on a real
stack whose registry holds versions registered the way generated projects register them."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from stratakit.registry.lineage import TAG_PREFIX

from ..helpers.projects import make_project, strata
from ..helpers.stacks import RunningStack, launch, shut_down

pytestmark = pytest.mark.e2e

MODEL = "fraud_model"
DATA = "data/raw/events.csv"

REGISTER = """
import json, sys, tempfile
from pathlib import Path
import mlflow, numpy as np
from sklearn.linear_model import LogisticRegression
from stratakit.registry.lineage import tree_sha256

mlflow.set_experiment("registry-tests")
registered = []
for args in json.loads(sys.argv[1]):
    rng = np.random.default_rng(args["seed"])
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    with mlflow.start_run() as run:
        estimator = LogisticRegression().fit(X, y)
        logged = mlflow.sklearn.log_model(estimator, name="model", input_example=X[:2])
        mlflow.log_metric("test_roc_auc", args["auc"])
    with tempfile.TemporaryDirectory() as scratch:
        local = mlflow.artifacts.download_artifacts(logged.model_uri, dst_path=scratch)
        digest = tree_sha256(Path(local))
    tags = {
        "owner": "risk-ds", "artifact_sha256": digest, "features": "f0,f1,f2",
        "git_commit": args["commit"], "git_dirty": "false", "pipeline_run": "pipe-1",
        "tracking_run": run.info.run_id, "data.data/raw/events.csv": args["md5"],
    }
    version = mlflow.register_model(logged.model_uri, "fraud_model",
                                    tags={f"strata.{k}": v for k, v in tags.items()})
    registered.append({"version": version.version, "source": version.source})
print(json.dumps(registered))
"""


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Kit Test", "-c", "user.email=kit@example.com", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


class Registry:
    """The module's stack, its git/DVC project, and helpers to register and run `strata`."""

    def __init__(self, stack: RunningStack) -> None:
        self.stack = stack
        self.root = stack.project.root
        self.md5 = "0123456789abcdef0123456789abcdef"

    def register(self, *aucs: float, commit: str | None = None) -> list[dict[str, str]]:
        """Register one version per AUC (in one interpreter: MLflow imports take seconds)."""
        args = [
            {"seed": 7, "auc": auc, "commit": commit or self.head, "md5": self.md5} for auc in aucs
        ]
        done = self.stack.python(f"import sys; sys.argv = ['x', {json.dumps(args)!r}]\n{REGISTER}")
        found: list[dict[str, str]] = json.loads(done.stdout.strip().splitlines()[-1])
        return found

    @property
    def head(self) -> str:
        return git(self.root, "rev-parse", "HEAD")

    def strata(self, *args: str) -> subprocess.CompletedProcess[str]:
        return strata(*args, "-C", str(self.root), cwd=self.root)

    def tags(self, version: str) -> dict[str, str]:
        out = self.strata("model", "describe", f"{MODEL}/{version}", "--format", "json")
        assert out.returncode == 0, out.stderr
        tags: dict[str, str] = json.loads(out.stdout)["tags"]
        return tags

    def set_gate(self, minimum: float | None) -> None:
        pyproject = self.root / "pyproject.toml"
        text = pyproject.read_text().split("[tool.strata.quality_gate]")[0]
        if minimum is not None:
            text += f"[tool.strata.quality_gate]\ntest_roc_auc = {{ min = {minimum} }}\n"
        pyproject.write_text(text)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    project = make_project(tmp_path_factory.mktemp("registry") / "fraud", "fraud")
    (project.root / "data" / "raw").mkdir(parents=True)
    (project.root / f"{DATA}.dvc").write_text(
        "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 10\n  path: events.csv\n"
    )
    git(project.root, "init", "--quiet", "--initial-branch=main")
    git(project.root, "add", "--all")
    git(project.root, "commit", "--quiet", "-m", "start")
    stack = launch(project)
    try:
        yield Registry(stack)
    finally:
        shut_down(project)


def test_describe_answers_the_five_questions(registry: Registry) -> None:
    [version] = [r["version"] for r in registry.register(0.91)]
    out = registry.strata("model", "describe", f"{MODEL}/{version}", "--format", "json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    lineage = info["lineage"]
    assert lineage["owner"] == "risk-ds"
    assert lineage["features"] == ["f0", "f1", "f2"]
    assert lineage["git_commit"] == registry.head
    assert lineage["data"] == {DATA: registry.md5}
    assert lineage["missing"] == []
    assert info["metrics"]["test_roc_auc"] == pytest.approx(0.91)
    table = registry.strata("model", "describe", MODEL)  # latest version, human table
    assert table.returncode == 0
    for question in ("who owns it", "which binary", "which features", "which code", "which data"):
        assert question in table.stdout


def test_verify_passes_then_catches_changed_data_and_missing_tags(registry: Registry) -> None:
    [version] = [r["version"] for r in registry.register(0.9)]
    ok = registry.strata("model", "verify", f"{MODEL}/{version}", "--format", "json")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    checks = {f["check"]: f["level"] for f in json.loads(ok.stdout)["findings"]}
    assert checks["artifact"] == "ok"
    assert checks["git commit"] == "ok"
    assert checks[f"data {DATA}"] == "ok"

    dvc_file = registry.root / f"{DATA}.dvc"
    original = dvc_file.read_text()
    dvc_file.write_text(original.replace(registry.md5, "f" * 32))
    try:
        changed = registry.strata("model", "verify", f"{MODEL}/{version}")
        assert changed.returncode == 0, changed.stdout  # new data is a warning...
        assert "changed since" in changed.stdout
        strict = registry.strata("model", "verify", f"{MODEL}/{version}", "--strict")
        assert strict.returncode == 1  # ...unless --strict
    finally:
        dvc_file.write_text(original)

    registry.stack.python(
        f"from mlflow import MlflowClient\n"
        f"MlflowClient().delete_model_version_tag('{MODEL}', '{version}', '{TAG_PREFIX}features')"
    )
    missing = registry.strata("model", "verify", f"{MODEL}/{version}", "--format", "json")
    assert missing.returncode == 1
    failed = [f for f in json.loads(missing.stdout)["findings"] if f["level"] == "fail"]
    assert [f["check"] for f in failed] == [f"tag {TAG_PREFIX}features"]


def test_verify_catches_a_tampered_artifact_and_an_unknown_commit(registry: Registry) -> None:
    [registered] = registry.register(0.9)
    model_id = registered["source"].removeprefix("models:/")
    registry.stack.python(
        f"""
        import boto3, os
        s3 = boto3.client("s3")
        bucket = os.environ["STRATA_BUCKET"]
        keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                for o in page.get("Contents", [])]
        # The serialized estimator (model.skops or model.pkl, by MLflow version).
        found = [k for k in keys if "{model_id}" in k and k.rsplit("/", 1)[1].startswith("model.")]
        assert len(found) == 1, ("{model_id}", keys)
        [key] = found
        s3.put_object(Bucket=bucket, Key=key, Body=b"not the model that was validated")
        """
    )
    tampered = registry.strata("model", "verify", f"{MODEL}/{registered['version']}", "-f", "json")
    assert tampered.returncode == 1
    failed = [f for f in json.loads(tampered.stdout)["findings"] if f["level"] == "fail"]
    assert [f["check"] for f in failed] == ["artifact"]
    assert "!= tagged" in failed[0]["detail"]

    stranger = registry.register(0.9, commit="0" * 40)[0]["version"]
    unknown = registry.strata("model", "verify", f"{MODEL}/{stranger}", "--format", "json")
    assert unknown.returncode == 1
    levels = {f["check"]: f["level"] for f in json.loads(unknown.stdout)["findings"]}
    assert levels["git commit"] == "fail"
    assert levels["artifact"] == "ok"


def test_promote_through_the_gate_and_roll_back(registry: Registry) -> None:
    good, better, weak = [r["version"] for r in registry.register(0.92, 0.95, 0.55)]

    registry.set_gate(None)
    no_gate = registry.strata("model", "promote", MODEL, good, "--reason", "first")
    assert no_gate.returncode == 1
    assert "[tool.strata.quality_gate]" in no_gate.stderr

    registry.set_gate(0.8)
    refused = registry.strata("model", "promote", MODEL, weak, "--reason", "try")
    assert refused.returncode == 1
    assert "test_roc_auc = 0.55" in refused.stderr and "test_roc_auc >= 0.8" in refused.stderr
    assert "Traceback" not in refused.stderr

    assert registry.strata("model", "promote", MODEL, good, "-m", "first release").returncode == 0
    promoted = registry.strata("model", "promote", MODEL, better, "-m", "better AUC")
    assert promoted.returncode == 0, promoted.stderr
    assert f"v{good} → v{better}" in promoted.stdout
    tags = registry.tags(better)
    assert tags[f"{TAG_PREFIX}promotion.reason"] == "better AUC"
    assert tags[f"{TAG_PREFIX}promotion.previous"] == good
    assert tags[f"{TAG_PREFIX}promotion.by"]
    assert tags[f"{TAG_PREFIX}promotion.at"]
    assert registry.tags(weak).get(f"{TAG_PREFIX}promotion.alias") is None
    current = json.loads(
        registry.strata("model", "describe", f"{MODEL}@production", "-f", "json").stdout
    )
    assert current["version"] == better

    back = registry.strata("model", "rollback", MODEL, "--reason", "latency regression")
    assert back.returncode == 0, back.stderr
    current = json.loads(
        registry.strata("model", "describe", f"{MODEL}@production", "-f", "json").stdout
    )
    assert current["version"] == good
    assert registry.tags(good)[f"{TAG_PREFIX}rollback.from"] == better

    nothing_left = registry.strata("model", "rollback", MODEL, "--reason", "again")
    assert nothing_left.returncode == 1
    assert "no earlier version" in nothing_left.stderr

    listing = registry.strata("model", "list", "--format", "json")
    [row] = [r for r in json.loads(listing.stdout) if r["name"] == MODEL]
    assert row["aliases"] == {"production": good}


def test_unknown_model_and_bad_reference_are_one_line_errors(registry: Registry) -> None:
    for ref, needle in (("no_such_model", "strata model list"), ("bad ref!", "NAME@ALIAS")):
        out = registry.strata("model", "describe", ref)
        assert out.returncode == 1
        assert needle in out.stderr
        assert len([line for line in out.stderr.splitlines() if line.strip()]) == 1
