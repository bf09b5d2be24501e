"""Generated projects install from their lock, pass their own checks, and run the pipeline.

Slow: each project is generated with its tasks (kit wheel, uv lock, uv sync, DVC, git).
The default one comes from plain `copier copy` of a git clone of the kit, which is then
removed; its CI jobs run step by step in a fresh clone elsewhere, and it runs its DVC
pipeline, flows and serving against a real stack started with `uv run strata stack up`.
The other answer sets (Python 3.12 and 3.13, W&B alone and both trackers, GitLab CI, no
notebooks) run their own checks and pipeline too.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import json5
import pandas as pd
import pytest
import yaml

from stratakit.project import Project
from stratakit.stack.ports import is_port_free

from ..helpers.ci_jobs import GITHUB_CONTEXT, JobRun, run_github_job, run_gitlab_job
from ..helpers.stacks import shut_down
from ..helpers.templates import (
    KIT_ROOT,
    MATRIX,
    NON_DEFAULT,
    generate,
    interpreter,
    kit_snapshot,
    tool,
    user_env,
)

pytestmark = pytest.mark.e2e

#: The generated model's inputs, as the feature view holds them.
FEATURE_COLUMNS = (
    "tenure_months",
    "monthly_charges",
    "support_calls",
    "usage_hours",
    "charges_per_tenure_month",
    "calls_per_usage_hour",
    "is_annual_contract",
    "plan_basic",
    "plan_standard",
    "plan_premium",
)
LINEAGE_KEYS = (
    "owner",
    "artifact_sha256",
    "features",
    "feature_refs",
    "git_commit",
    "git_dirty",
    "pipeline_run",
    "tracking_run",
)


def project_env(python: str | None = None) -> dict[str, str]:
    """The environment a user's shell would have: no kit virtualenv, a git identity."""
    return user_env(python)


def in_project(
    root: Path, *args: str, env: Mapping[str, str], timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run a command in the generated project with exactly ``env``."""
    done = subprocess.run(
        list(args), cwd=root, env=dict(env), capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(args)} exited {done.returncode} in {root}\n"
            f"--- stdout ---\n{done.stdout[-8000:]}\n--- stderr ---\n{done.stderr[-8000:]}"
        )
    return done


def check_project(root: Path, env: Mapping[str, str]) -> None:
    """The project's own promises: fresh lock, clean tree, its nox sessions and hooks."""
    uv = tool("uv")
    assert len(in_project(root, "git", "log", "--oneline", env=env).stdout.splitlines()) == 1
    assert in_project(root, "git", "status", "--porcelain", env=env).stdout == ""
    in_project(root, uv, "lock", "--check", env=env)
    in_project(root, uv, "sync", "--locked", env=env)
    in_project(root, uv, "run", "--locked", "nox", "-s", "lint", "typecheck", "tests", env=env)
    in_project(root, uv, "run", "--locked", "pre-commit", "run", "--all-files", env=env)
    # Formatters and fixers had nothing to change.
    assert in_project(root, "git", "status", "--porcelain", env=env).stdout == ""


def clone_elsewhere(root: Path, parent: Path, env: Mapping[str, str]) -> Path:
    """A fresh clone of the project in a folder of another depth, as a colleague gets it."""
    clone = parent / "elsewhere" / "deeper" / root.name
    clone.parent.mkdir(parents=True)
    in_project(parent, "git", "clone", "--quiet", str(root), str(clone), env=env)
    return clone


def pinned_uv() -> str:
    """The uv version the kit pins (pyproject.toml's required-version)."""
    table = tomllib.loads((KIT_ROOT / "pyproject.toml").read_text())["tool"]["uv"]
    return str(table["required-version"]).removeprefix("==")


def assert_job_ran(job: JobRun) -> None:
    assert job.ok, job.report()


def readme_blocks(section: str) -> list[str]:
    """The ``bash`` blocks of one section of the kit's README, in order."""
    text = (KIT_ROOT / "README.md").read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return [block.split("\n```", 1)[0] for block in body.split("```bash\n")[1:]]


def run_block(block: str, cwd: Path, env: Mapping[str, str]) -> str:
    """Commands as a user pastes them into a shell (stopping at the first that fails)."""
    return in_project(cwd, "bash", "-e", "-c", block, env=env).stdout


@pytest.fixture(scope="module")
def default_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The README's "Starting a project", verbatim, with its plain-copier line: from a git
    clone of the kit; then the kit's clone is removed (the project must not need it)."""
    env = project_env()
    parent = tmp_path_factory.mktemp("default")
    kit = kit_snapshot(parent / "stratakit")
    tools = parent / "bin"  # copier on PATH, as `uv tool install copier` or pipx put it
    tools.mkdir()
    (tools / "copier").symlink_to(tool("copier"))
    env["PATH"] = f"{tools}{os.pathsep}{env['PATH']}"
    with_strata, with_copier = readme_blocks("Starting a project")
    run_block(with_copier, cwd=kit, env=env)
    root = parent / "churn-forecast"
    first, change_dir, *rest = with_strata.splitlines()
    assert first.startswith("uv run strata new ../churn-forecast") and change_dir == (
        "cd ../churn-forecast"
    )
    try:
        run_block("\n".join(rest), cwd=root, env=env)
    finally:
        shut_down(Project(root=root))
    shutil.rmtree(kit)
    return root, env


@pytest.fixture(scope="module")
def fresh_clone(
    default_project: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    root, env = default_project
    return clone_elsewhere(root, tmp_path_factory.mktemp("clone"), env)


ProjectAndEnv = tuple[Path, dict[str, str]]


def test_default_project_passes_its_own_checks(
    default_project: ProjectAndEnv, fresh_clone: Path
) -> None:
    """Generated by plain copier, it runs its CI's check job green in a fresh clone elsewhere."""
    root, env = default_project
    answers = yaml.safe_load((root / ".copier-answers.yml").read_text())
    assert answers["tracking"] == "mlflow" and answers["kit_source"] == "vendored"
    assert (root / "data" / "raw" / "customers.csv.dvc").is_file()
    assert (root / ".git" / "hooks" / "pre-commit").is_file()
    # The README's steps committed the pipeline's results; `strata update` changed nothing.
    assert in_project(root, "git", "status", "--porcelain", env=env).stdout == ""
    log = in_project(root, "git", "log", "--format=%s", env=env).stdout.splitlines()
    assert log == ["First pipeline run", "Start Churn Forecast from the StrataKit template"]
    # The project runs this checkout's kit (its vendored wheel), not an older build.
    installed = in_project(
        root, str(root / ".venv" / "bin" / "python"), "-c",
        "import pathlib, stratakit; print(pathlib.Path(stratakit.__file__).parent)", env=env,
    ).stdout.strip()  # fmt: skip
    kit = KIT_ROOT / "platform" / "stratakit"
    for module in sorted(kit.rglob("*.py")):
        relative = module.relative_to(kit)
        assert (Path(installed) / relative).read_bytes() == module.read_bytes(), relative

    workflow = fresh_clone / ".github" / "workflows" / "ci.yml"
    assert_job_ran(run_github_job(workflow, "checks", fresh_clone, env, pinned_uv()))
    uv = tool("uv")
    in_project(fresh_clone, uv, "run", "--locked", "pre-commit", "run", "--all-files", env=env)
    # Formatters and fixers had nothing to change.
    assert in_project(fresh_clone, "git", "status", "--porcelain", env=env).stdout == ""


def test_the_ci_pipeline_job_runs_in_a_fresh_clone(
    default_project: ProjectAndEnv, fresh_clone: Path
) -> None:
    """The workflow's pipeline job, step by step: stack, data, pipeline, push, stack down."""
    _, env = default_project
    workflow = fresh_clone / ".github" / "workflows" / "ci.yml"
    try:
        job = run_github_job(workflow, "pipeline", fresh_clone, env, pinned_uv())
    finally:
        shut_down(Project(root=fresh_clone))  # the job stops its stack; make sure
    assert_job_ran(job)
    ran = {step.name: step.output for step in job.steps}
    assert any("registered churn_forecast version 1" in out for out in ran.values()), ran
    record = json.loads((fresh_clone / "models" / "run.json").read_text())
    assert record["pipeline_run"] == f"strata_pipeline_run:{GITHUB_CONTEXT['github.run_id']}"
    assert (fresh_clone / "dvc.lock").is_file()


def test_non_default_project_passes_its_own_checks(tmp_path: Path) -> None:
    """Python 3.12, W&B only, GitLab CI, no notebooks: its GitLab jobs run in a fresh clone."""
    python = interpreter(NON_DEFAULT["python_version"])
    assert python, f"no Python {NON_DEFAULT['python_version']} here: install it with pyenv"
    env = project_env(python)
    root = generate(tmp_path, NON_DEFAULT, env)
    assert (root / ".gitlab-ci.yml").is_file()
    assert not (root / "notebooks").exists()
    clone = clone_elsewhere(root, tmp_path, env)
    pipeline = clone / ".gitlab-ci.yml"
    assert_job_ran(run_gitlab_job(pipeline, "checks", clone, env))
    version = in_project(clone, tool("uv"), "run", "--locked", "python", "--version", env=env)
    assert version.stdout.startswith(f"Python {NON_DEFAULT['python_version']}")
    try:
        assert_job_ran(run_gitlab_job(pipeline, "pipeline", clone, env))
    finally:
        shut_down(Project(root=clone))

    # W&B recorded the pipeline offline (no API key): train, then evaluate resuming the run.
    assert json.loads((clone / "metrics" / "metrics.json").read_text())["roc_auc"] > 0.7
    runs = sorted((clone / "wandb").glob("offline-run-*"))
    assert len(runs) == 2, runs
    assert runs[0].name.rsplit("-", 1)[1] == runs[1].name.rsplit("-", 1)[1]


def test_both_trackers_on_python_3_13_record_one_pipeline_run(tmp_path: Path) -> None:
    """MLflow and W&B (offline) in one run, on Python 3.13, no CI files: checks, pipeline."""
    answers = MATRIX["both-trackers"]
    python = interpreter(answers["python_version"])
    assert python, f"no Python {answers['python_version']} here: install it with pyenv"
    env = project_env(python)
    root = generate(tmp_path, answers, env)
    check_project(root, env)
    assert not (root / ".github").exists() and not (root / ".gitlab-ci.yml").exists()
    uv = tool("uv")
    try:
        in_project(root, uv, "run", "--locked", "strata", "stack", "up", env=env)
        out = in_project(root, uv, "run", "--locked", "nox", "-s", "pipeline", env=env).stdout
    finally:
        in_project(root, uv, "run", "--locked", "strata", "stack", "down", env=env)
        shut_down(Project(root=root))
    assert "registered demand_planner version 1" in out, out[-3000:]
    runs = sorted((root / "wandb").glob("offline-run-*"))
    assert len(runs) == 2, runs  # train, then evaluate resuming the same W&B run
    record = json.loads((root / "models" / "run.json").read_text())
    assert set(record["trackers"]) == {"mlflow", "wandb"}


@pytest.fixture
def project_stack(default_project: tuple[Path, dict[str, str]]) -> Iterator[dict[str, str]]:
    """The default project's own stack (`uv run strata stack up`), stopped and checked by PID."""
    root, env = default_project
    in_project(root, tool("uv"), "run", "--locked", "strata", "stack", "up", env=env)
    try:
        contract = json.loads(
            in_project(
                root, tool("uv"), "run", "--locked", "strata", "stack", "env", "--format", "json",
                env=env,
            ).stdout
        )  # fmt: skip
        yield contract
    finally:
        in_project(root, tool("uv"), "run", "--locked", "strata", "stack", "down", env=env)
        shut_down(Project(root=root))


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def test_pipeline_tracks_registers_and_versions_data(
    default_project: tuple[Path, dict[str, str]], project_stack: dict[str, str], tmp_path: Path
) -> None:
    """After the README's steps (pipeline run, pushed, committed, stack stopped) the
    restarted stack still holds everything, and every lineage answer checks out."""
    root, env = default_project
    uv = tool("uv")
    assert project_stack["STRATA_BUCKET"] == "churn-forecast-data"
    metrics = json.loads((root / "metrics" / "metrics.json").read_text())
    assert metrics["roc_auc"] > 0.7, metrics

    # The exploration notebook runs and reads the run back from the tracking server.
    in_project(root, uv, "run", "--locked", "nox", "-s", "notebooks", env=env)
    executed = json.loads((root / ".nox" / "executed-explore.ipynb").read_text())
    last_output = json.dumps(executed["cells"][-1]["outputs"])
    assert "run_id" in last_output and "test_roc_auc" in last_output, last_output

    # A fresh clone gets byte-identical data, features and model from the bucket.
    clone = tmp_path / "clone"
    in_project(tmp_path, "git", "clone", "--quiet", str(root), str(clone), env=env)
    assert not (clone / "data" / "raw" / "customers.csv").exists()
    dvc = str(root / ".venv" / "bin" / "dvc")
    in_project(clone, dvc, "pull", env={**env, **project_stack})
    for relative in (
        "data/raw/customers.csv",
        "data/prepared/train.parquet",
        "data/features/customer_features.parquet",
        "models/model.pkl",
    ):
        assert (clone / relative).read_bytes() == (root / relative).read_bytes(), relative

    # The tracking server holds the run and a version with every lineage tag filled.
    script = """
import json, sys, tempfile
from pathlib import Path
import mlflow
from mlflow import MlflowClient
from churn_forecast.lineage import tree_sha256
client = MlflowClient()
version = client.get_model_version_by_alias("churn_forecast", "candidate")
run = client.get_run(version.run_id)
with tempfile.TemporaryDirectory() as scratch:
    local = mlflow.artifacts.download_artifacts(version.source, dst_path=scratch)
    digest = tree_sha256(Path(local))
json.dump({"tags": version.tags, "digest": digest, "params": run.data.params,
           "metrics": run.data.metrics, "run_id": run.info.run_id}, sys.stdout)
"""
    out = in_project(
        root, str(root / ".venv" / "bin" / "python"), "-c", script, env={**env, **project_stack}
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    tags = found["tags"]
    for key in LINEAGE_KEYS:
        assert tags.get(f"strata.{key}"), key
    assert tags["strata.owner"] == "ml-platform"
    assert tags["strata.artifact_sha256"] == found["digest"]
    assert tags["strata.tracking_run"] == found["run_id"]
    raw_dvc = yaml.safe_load((root / "data" / "raw" / "customers.csv.dvc").read_text())
    assert tags["strata.data.data/raw/customers.csv"] == raw_dvc["outs"][0]["md5"]
    assert tags["strata.data.data/raw/customers.csv"] == md5(root / "data/raw/customers.csv")
    assert tags["strata.data.data/features"].endswith(".dir")
    first_commit = in_project(root, "git", "rev-list", "--max-parents=0", "HEAD", env=env)
    assert tags["strata.git_commit"] == first_commit.stdout.strip()
    assert tags["strata.git_dirty"] == "false"
    assert "tenure_months" in tags["strata.features"].split(",")
    assert "customer_features:tenure_months" in tags["strata.feature_refs"].split(",")
    assert found["params"]["model"] == "logistic_regression"
    assert found["metrics"]["test_roc_auc"] == pytest.approx(metrics["roc_auc"])
    assert found["run_id"] in last_output

    # The kit re-checks that lineage and promotes the version through the project's gate.
    strata = [uv, "run", "--locked", "strata", "model"]
    verified = in_project(
        root, *strata, "verify", "churn_forecast@candidate", "-f", "json", env=env
    )
    assert json.loads(verified.stdout)["ok"] is True
    in_project(root, *strata, "promote", "churn_forecast", "1", "-m", "first model", env=env)
    described = in_project(
        root, *strata, "describe", "churn_forecast@production", "-f", "json", env=env
    )
    assert json.loads(described.stdout)["tags"]["strata.promotion.reason"] == "first model"

    # The gateway serves the promoted version, and the README's curl call answers like the
    # model itself does.
    serving = project_stack["STRATA_SERVING_URL"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        meta = httpx.get(f"{serving}/v2/models/churn_forecast", timeout=10)
        if meta.status_code == 200 and meta.json()["versions"] == ["1"]:
            break
        time.sleep(0.5)
    assert meta.status_code == 200, meta.text
    readme = (root / "README.md").read_text()
    [call] = [line for line in readme.splitlines() if line.startswith("curl") and "-d '" in line]
    answer = subprocess.run(
        ["bash", "-c", call],
        env={**env, **project_stack},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    predictions = json.loads(answer.stdout)["predictions"]
    body = call.split("-d '", 1)[1].rsplit("'", 1)[0]
    direct = in_project(
        root,
        str(root / ".venv" / "bin" / "python"),
        "-c",
        "import json, sys, mlflow, pandas as pd\n"
        "frame = pd.DataFrame(json.loads(sys.argv[1])['dataframe_records'])\n"
        "model = mlflow.pyfunc.load_model('models:/churn_forecast@production')\n"
        "print(json.dumps(model.predict(frame).tolist()))",
        body,
        env={**env, **project_stack},
    )
    expected = json.loads(direct.stdout.strip().splitlines()[-1])
    assert len(predictions) == 1 and len(predictions[0]) == 2
    assert predictions[0] == pytest.approx(expected[0], rel=1e-9)

    # Key-only requests: the gateway fetches the customer's features from the online store
    # (materialized by `nox -s pipeline`) and answers exactly as with those features inline.
    invocations = f"{serving}/models/churn_forecast/invocations"
    by_key = httpx.post(
        invocations, json={"dataframe_records": [{"customer_id": "C00042"}]}, timeout=30
    )
    assert by_key.status_code == 200, by_key.text
    table = pd.read_parquet(root / "data" / "features" / "customer_features.parquet")
    latest = table[table.customer_id == "C00042"].sort_values("event_timestamp").tail(1)
    record = {name: float(latest[name].iloc[0]) for name in FEATURE_COLUMNS}
    inline = httpx.post(invocations, json={"dataframe_records": [record]}, timeout=30)
    assert by_key.json() == inline.json()
    unknown = httpx.post(
        invocations, json={"dataframe_records": [{"customer_id": "C99999"}]}, timeout=30
    )
    assert unknown.status_code == 404 and "C99999" in unknown.text

    # The catalog lists the feature view, its freshness and the version trained on it.
    listed = in_project(
        root, uv, "run", "--locked", "strata", "features", "list", "-f", "json", env=env
    )
    [view] = json.loads(listed.stdout)
    assert view["name"] == "customer_features"
    assert view["owner"] == "ml-platform"
    assert view["join_keys"] == ["customer_id"]
    assert view["last_materialized"] is not None
    assert view["used_by"] == ["churn_forecast/1"]
    assert {f["name"] for f in view["features"]} == set(FEATURE_COLUMNS)
    shown = in_project(
        root, uv, "run", "--locked", "strata", "features", "show", "customer_features",
        env={**env, "COLUMNS": "200"},
    ).stdout  # fmt: skip
    assert "churn_forecast/1" in shown and "Monthly snapshot features" in shown
    assert all(name in shown for name in FEATURE_COLUMNS)


def test_pushed_data_retrains_and_the_gateway_serves_the_new_version(
    default_project: tuple[Path, dict[str, str]], project_stack: dict[str, str]
) -> None:
    """The README's walk-through: change data, push, and the rest happens on its own."""
    root, env = default_project
    uv = tool("uv")
    strata = [uv, "run", "--locked", "strata"]
    deployed = json.loads(
        in_project(root, *strata, "flows", "deploy", "-f", "json", env=env).stdout
    )
    queues = {q["name"]: q for q in deployed["queues"]}
    assert queues["materialize"]["priority"] < queues["training"]["priority"]
    assert queues["training"]["concurrency_limit"] == 1
    flows = {d["name"]: d for d in deployed["deployments"]}
    assert flows["retrain"]["triggers"] == ["strata.data.pushed"]
    assert flows["materialize"]["cron"] == "0 * * * *"

    # New data: a seventh month of snapshots, versioned by DVC and pushed to the bucket.
    python = str(root / ".venv" / "bin" / "python")
    in_project(
        root, python, "src/churn_forecast/data.py", "data/raw/customers.csv", "--months", "7",
        env=env,
    )  # fmt: skip
    in_project(
        root, uv, "run", "--locked", "dvc", "add", "--quiet", "data/raw/customers.csv", env=env
    )
    pushed_at = time.monotonic()
    in_project(root, *strata, "data", "push", env=env)

    # The retrain flow runs on the worker, registers version 2, promotes it through the
    # gate, and the gateway picks it up.
    serving = project_stack["STRATA_SERVING_URL"]
    deadline = pushed_at + 900
    versions: list[str] = []
    while time.monotonic() < deadline:
        versions = httpx.get(f"{serving}/v2/models/churn_forecast", timeout=10).json()["versions"]
        if versions == ["2"]:
            break
        time.sleep(2)
    served_after = time.monotonic() - pushed_at
    listed = json.loads(in_project(root, *strata, "flows", "list", "-f", "json", env=env).stdout)
    retrain = next(row for row in listed if row["name"] == "retrain")
    assert versions == ["2"], (retrain, served_after)
    assert retrain["last_state"] == "Completed", retrain
    print(f"data push -> version 2 served: {served_after:.1f} s")  # for the closing figures

    described = json.loads(
        in_project(
            root, *strata, "model", "describe", "churn_forecast@production", "-f", "json", env=env
        ).stdout
    )
    tags = described["tags"]
    assert "new data was pushed" in tags["strata.promotion.reason"]
    new_raw = yaml.safe_load((root / "data" / "raw" / "customers.csv.dvc").read_text())
    assert tags["strata.data.data/raw/customers.csv"] == new_raw["outs"][0]["md5"]
    # The online store was refreshed from the new table: month 7 is what serving sees.
    table = pd.read_parquet(root / "data" / "features" / "customer_features.parquet")
    assert table["event_timestamp"].max() == pd.Timestamp("2025-07-01", tz="UTC")
    latest = table[table.customer_id == "C00042"].sort_values("event_timestamp").tail(1)
    record = {name: float(latest[name].iloc[0]) for name in FEATURE_COLUMNS}
    invocations = f"{serving}/models/churn_forecast/invocations"
    by_key = httpx.post(
        invocations, json={"dataframe_records": [{"customer_id": "C00042"}]}, timeout=30
    )
    inline = httpx.post(invocations, json={"dataframe_records": [record]}, timeout=30)
    assert by_key.status_code == 200 and by_key.json() == inline.json()

    # A version the quality gate refuses is not promoted, and the run still completes: the
    # refusal is an outcome, not a failure. (Nothing changed, so DVC skips every stage and
    # the candidate, version 2, meets a stricter gate.)
    pyproject = root / "pyproject.toml"
    original = pyproject.read_text()
    pyproject.write_text(original.replace("min = 0.7 }", "min = 0.999 }"))
    try:
        in_project(root, *strata, "flows", "run", "retrain", "--wait", env=env)
    finally:
        pyproject.write_text(original)
    worker_log = (root / ".strata" / "logs" / "prefect-worker.log").read_text()
    assert "version 2 refused by the quality gate" in worker_log
    after = json.loads(
        in_project(
            root, *strata, "model", "describe", "churn_forecast@production", "-f", "json", env=env
        ).stdout
    )
    assert after["version"] == "2" and after["tags"] == tags


LIFECYCLE_ORDER = (
    "onCreateCommand",
    "updateContentCommand",
    "postCreateCommand",
    "postStartCommand",
    "postAttachCommand",
)


def run_lifecycle_command(
    command: str | list[str] | dict[str, Any], root: Path, env: Mapping[str, str]
) -> str:
    """One lifecycle command in the spec's three forms: shell string, argv, parallel object."""
    if isinstance(command, dict):
        procs = [
            subprocess.Popen(
                ["/bin/sh", "-c", part] if isinstance(part, str) else part,
                cwd=root,
                env=dict(env),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for part in command.values()
        ]
        outputs = [proc.communicate(timeout=900)[0] for proc in procs]
        assert all(proc.returncode == 0 for proc in procs), outputs
        return "".join(outputs)
    argv = ["/bin/sh", "-c", command] if isinstance(command, str) else command
    return in_project(root, *argv, env=env).stdout


def test_dev_container_lifecycle_from_a_clean_checkout(
    default_project: ProjectAndEnv, tmp_path: Path
) -> None:
    """What the container runs after it is created and started, in order, on this machine."""
    root, env = default_project
    clone = tmp_path / "project"
    in_project(tmp_path, "git", "clone", "--quiet", str(root), str(clone), env=env)
    assert not (clone / ".venv").exists()
    raw = (clone / ".devcontainer" / "devcontainer.json").read_text()
    config = json5.loads(raw.replace("${containerWorkspaceFolder}", str(clone)))
    container_env = {**env, **config.get("containerEnv", {}), **config.get("remoteEnv", {})}
    forwarded = set(config["forwardPorts"]) - {8888}
    busy = [port for port in sorted(forwarded) if not is_port_free(port)]
    assert not busy, f"ports {busy} are taken on this machine; a container would have them free"

    outputs = {}
    try:
        for name in LIFECYCLE_ORDER:
            if name in config:
                outputs[name] = run_lifecycle_command(config[name], clone, container_env)
        assert list(outputs) == ["postCreateCommand", "postStartCommand"]
        assert (clone / ".venv" / "bin" / "python").is_file()
        assert (clone / ".git" / "hooks" / "pre-commit").is_file()
        assert "runs on the CPU" in outputs["postCreateCommand"] or (
            "Training device: cuda" in outputs["postCreateCommand"]
        )
        # A restart (Codespaces stop/start) runs postStartCommand again: harmless.
        run_lifecycle_command(config["postStartCommand"], clone, container_env)
        status = json.loads(
            in_project(
                clone, str(clone / ".venv" / "bin" / "strata"), "stack", "status", "--format",
                "json", env=container_env,
            ).stdout
        )  # fmt: skip
        services = status["services"]
        assert all(service["healthy"] for service in services), services
        assert {s["port"] for s in services if s["forwarded"]} == forwarded
        assert (clone / ".env").is_file()
    finally:
        if (clone / ".venv" / "bin" / "strata").exists():
            in_project(clone, str(clone / ".venv" / "bin" / "strata"), "stack", "down", env=env)
        if (clone / ".strata").exists():
            shut_down(Project(root=clone))
