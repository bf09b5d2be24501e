"""`strata flows` and `strata data push` on a real stack: queues, triggers, retries, priority."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from stratakit.flows.connection import prefect_api
from stratakit.flows.deploy import deploy_flows
from stratakit.flows.runs import run_flow
from stratakit.project import Project
from stratakit.stack.services.scheduler import WORK_POOL

from ..helpers.stacks import RunningStack

pytestmark = pytest.mark.e2e

FLOWS_PY = """
import json
import time
from pathlib import Path

from prefect import flow, task
from prefect.runtime import flow_run


def _record(marks: str, label: str, started: float) -> None:
    folder = Path(marks)
    folder.mkdir(parents=True, exist_ok=True)
    record = {"flow": label, "run": str(flow_run.id), "start": started, "end": time.time()}
    (folder / f"{label}-{flow_run.id}.json").write_text(json.dumps(record))


@task(retries=2, retry_delay_seconds=0)
def train(marks: str, fail_times: int) -> int:
    counter = Path(marks) / "attempts"
    attempts = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(attempts))
    if attempts <= fail_times:
        raise RuntimeError(f"attempt {attempts} fails on purpose")
    return attempts


@task
def promote(marks: str) -> None:
    (Path(marks) / "promoted").write_text("promoted")


@flow(name="e2e-materialize")
def materialize(marks: str, seconds: float = 0.0) -> None:
    started = time.time()
    time.sleep(seconds)
    _record(marks, "materialize", started)


@flow(name="e2e-retrain")
def retrain(marks: str, fail_times: int = 0, seconds: float = 0.0, event: str = "") -> None:
    started = time.time()
    Path(marks).mkdir(parents=True, exist_ok=True)
    (Path(marks) / "event").write_text(event)
    time.sleep(seconds)
    train(marks, fail_times)
    promote(marks)
    _record(marks, "retrain", started)
"""

CONFIG = """
[tool.strata.queues]
materialize = {{ priority = 1 }}
training = {{ priority = 10, concurrency_limit = 1 }}

[tool.strata.flows.materialize]
entrypoint = "pipelines/flows.py:materialize"
queue = "materialize"
cron = "0 0 1 1 *"
parameters = {{ marks = "{marks}" }}

[tool.strata.flows.retrain]
entrypoint = "pipelines/flows.py:retrain"
queue = "training"
triggers = ["strata.data.pushed"]
parameters = {{ marks = "{marks}" }}
"""

DVC_FILE = (
    "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 3\n  hash: md5\n  path: raw.csv\n"
)


@dataclass
class FlowsProject:
    project: Project
    triggered_marks: Path


@pytest.fixture(scope="module")
def flows_project(
    stack: RunningStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FlowsProject]:
    """The session stack's project with a flows file, its configuration and DVC-tracked data."""
    root = stack.project.root
    pyproject = root / "pyproject.toml"
    original = pyproject.read_text()
    # Inside the project: the worker runs flows there (a container's worker sees only it).
    marks = root / "e2e-marks"
    added = [root / name for name in ("pipelines", "data", ".dvc", ".dvcignore", "e2e-marks")]
    (root / "pipelines").mkdir()
    (root / "pipelines" / "flows.py").write_text(FLOWS_PY)
    (root / "data").mkdir()
    (root / "data" / "raw.csv").write_text("id,value\n1,2\n")
    dvc = str(Path(sys.executable).parent / "dvc")
    site_cache = tmp_path_factory.mktemp("dvc-site-cache")
    for args in (
        ["init", "-q", "--no-scm"],
        ["config", "core.site_cache_dir", str(site_cache)],
        ["remote", "add", "-d", "store", f"s3://{stack.bucket}/dvc"],
        ["add", "-q", "data/raw.csv"],
    ):
        done = subprocess.run(
            [dvc, *args], cwd=root, env=stack.env(), capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
    pyproject.write_text(original + CONFIG.format(marks=marks))
    try:
        yield FlowsProject(project=Project(root=root), triggered_marks=marks)
    finally:
        pyproject.write_text(original)
        for path in added:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)


@pytest.fixture
def marks(flows_project: FlowsProject, request: pytest.FixtureRequest) -> Path:
    """A test's own folder for its flows' marks, in the project: the worker runs flows
    there (a container's worker sees only that folder of the host)."""
    folder = flows_project.project.root / "e2e-marks" / request.node.name
    folder.mkdir(parents=True)
    return folder


def prefect_client() -> Any:
    from prefect.client.orchestration import get_client

    return get_client(sync_client=True)


def cli(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    """The real `strata` command, run in the project as a user would, on a wide terminal."""
    return subprocess.run(
        [sys.executable, "-m", "stratakit.cli", *args],
        cwd=project.root,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def wait_for(what: str, check: Callable[[], bool], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(1)


def records(marks: Path, label: str) -> list[dict[str, Any]]:
    return sorted(
        (json.loads(p.read_text()) for p in marks.glob(f"{label}-*.json")),
        key=lambda r: r["start"],
    )


def test_deploy_creates_queues_and_deployments_idempotently(flows_project: FlowsProject) -> None:
    """Deploy twice: the queues carry their priority and limit, each flow is deployed once."""
    project = flows_project.project
    first = cli(project, "flows", "deploy")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "queue training: priority 10, limit 1" in first.stdout
    assert "queue materialize: priority 1, no limit" in first.stdout
    assert "e2e-retrain/retrain → queue training (on strata.data.pushed)" in first.stdout

    again = deploy_flows(project)
    assert {(q.name, q.priority, q.concurrency_limit, q.created) for q in again.queues} == {
        ("materialize", 1, None, False),
        ("training", 10, 1, False),
    }
    with prefect_api(project), prefect_client() as client:
        queues = {q.name: q for q in client.read_work_queues(work_pool_name=WORK_POOL)}
        deployments = [d for d in client.read_deployments() if d.name in {"materialize", "retrain"}]
        automations = client.read_automations()
    assert (queues["materialize"].priority, queues["materialize"].concurrency_limit) == (1, None)
    assert (queues["training"].priority, queues["training"].concurrency_limit) == (10, 1)
    assert sorted(d.name for d in deployments) == ["materialize", "retrain"]
    assert {d.name: d.work_queue_name for d in deployments} == {
        "materialize": "materialize",
        "retrain": "training",
    }
    triggered = [a for a in automations if "strata.data.pushed" in getattr(a.trigger, "expect", ())]
    assert len(triggered) == 1  # redeploying replaced the trigger instead of adding one

    listed = cli(project, "flows", "list", "--format", "json")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    table = cli(project, "flows", "list")
    assert table.returncode == 0, table.stdout + table.stderr
    assert "training (priority 10, limit 1)" in table.stdout
    assert "materialize (priority 1)" in table.stdout
    assert rows["materialize"]["deployed"] and rows["retrain"]["deployed"]
    assert rows["materialize"]["flow"] == "e2e-materialize"
    assert rows["materialize"]["schedule"] == "0 0 1 1 *"
    assert (rows["materialize"]["queue"], rows["materialize"]["priority"]) == ("materialize", 1)
    assert (rows["retrain"]["priority"], rows["retrain"]["concurrency_limit"]) == (10, 1)
    assert rows["retrain"]["triggers"] == ["strata.data.pushed"]
    assert rows["retrain"]["schedule"] is None


def _deployment_id(project: Project, name: str) -> UUID:
    with prefect_api(project), prefect_client() as client:
        return next(d.id for d in client.read_deployments() if d.name == name)


def _runs(project: Project, deployment_id: UUID) -> list[Any]:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    with prefect_api(project), prefect_client() as client:
        return list(
            client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
            )
        )


def test_data_pushed_event_starts_the_triggered_flow(flows_project: FlowsProject) -> None:
    """`strata data push --event-only` emits the event; the retrain deployment runs to the end."""
    project = flows_project.project
    deploy_flows(project)
    deployment_id = _deployment_id(project, "retrain")
    pushed = cli(project, "data", "push", "--event-only")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert "strata.data.pushed" in pushed.stdout
    assert f"strata.project.{project.slug}: 1 DVC-tracked path(s)" in pushed.stdout

    def triggered_run_completed() -> bool:
        return any(run.state.is_completed() for run in _runs(project, deployment_id) if run.state)

    wait_for("the triggered retrain run", triggered_run_completed, timeout=300)
    assert records(flows_project.triggered_marks, "retrain")
    assert (flows_project.triggered_marks / "promoted").exists()
    # The trigger told the flow which event started it, beside the deployment's parameters.
    assert (flows_project.triggered_marks / "event").read_text() == "strata.data.pushed"


def test_a_task_failing_once_is_retried_and_the_flow_completes(
    flows_project: FlowsProject, marks: Path
) -> None:
    project = flows_project.project
    result = run_flow(
        project, "retrain", {"marks": str(marks), "fail_times": 1}, wait=True, timeout=300
    )
    assert (result.state, result.ok) == ("Completed", True)
    assert (marks / "attempts").read_text() == "2"
    assert (marks / "promoted").exists()


def test_a_task_that_keeps_failing_fails_the_flow_before_promote(
    flows_project: FlowsProject, marks: Path
) -> None:
    """Three attempts (one try plus two retries), then Failed; `promote` never ran; exit 1."""
    project = flows_project.project
    done = cli(
        project,
        "flows",
        "run",
        "retrain",
        "--param",
        f"marks={marks}",
        "--param",
        "fail_times=9",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Failed" in done.stdout
    assert (marks / "attempts").read_text() == "3"
    assert not (marks / "promoted").exists()


def _set_pool(project: Project, **fields: Any) -> None:
    from prefect.client.schemas.actions import WorkPoolUpdate

    with prefect_api(project), prefect_client() as client:
        client.update_work_pool(WORK_POOL, WorkPoolUpdate(**fields))


def _state(project: Project, run_id: str) -> str:
    with prefect_api(project), prefect_client() as client:
        return str(client.read_flow_run(UUID(run_id)).state_name)


def test_priority_first_and_the_training_limit_holds(
    flows_project: FlowsProject, marks: Path
) -> None:
    """Two training runs queued before one materialize run: materialize starts first.

    The pool is paused while the runs are queued and given one slot when it resumes, so
    the first free slot goes to the queue with the best priority. Once materialize is done
    the pool is unlimited again and only the training queue's limit of 1 keeps its two
    runs from overlapping.
    """
    project = flows_project.project
    _set_pool(project, is_paused=True, concurrency_limit=1)
    try:
        training = [
            run_flow(project, "retrain", {"marks": str(marks), "seconds": 4}, wait=False)
            for _ in range(2)
        ]
        materialize = run_flow(project, "materialize", {"marks": str(marks)}, wait=False)
        _set_pool(project, is_paused=False)
        wait_for("materialize", lambda: _state(project, materialize.flow_run_id) == "Completed")
    finally:
        _set_pool(project, is_paused=False, concurrency_limit=None)
    wait_for(
        "both training runs",
        lambda: all(_state(project, run.flow_run_id) == "Completed" for run in training),
        timeout=300,
    )
    first_materialize = records(marks, "materialize")[0]
    first_training, second_training = records(marks, "retrain")
    assert first_materialize["end"] <= first_training["start"]
    assert first_training["end"] <= second_training["start"], "training runs overlapped"


def test_data_push_uploads_with_dvc_then_announces_the_hashes(
    flows_project: FlowsProject, stack: RunningStack
) -> None:
    """Without --event-only, `dvc push` puts the data into the project's bucket first."""
    import boto3

    project = flows_project.project
    deployment_id = _deployment_id(project, "retrain")
    before = {run.id for run in _runs(project, deployment_id)}
    pushed = cli(project, "data", "push", "data/raw.csv")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert "dvc push" in pushed.stdout
    assert "1 DVC-tracked path(s)" in pushed.stdout
    s3 = boto3.client(
        "s3",
        endpoint_url=stack.contract["AWS_ENDPOINT_URL_S3"],
        aws_access_key_id=stack.contract["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=stack.contract["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )
    listed = s3.list_objects_v2(Bucket=stack.bucket, Prefix="dvc/")
    assert listed["KeyCount"] >= 1

    def triggered_run_final() -> bool:
        new = [run for run in _runs(project, deployment_id) if run.id not in before]
        return bool(new) and all(run.state and run.state.is_final() for run in new)

    # The event starts retrain again; let it finish so no run outlives the test.
    wait_for("the retrain run started by the push", triggered_run_final, timeout=300)

    not_tracked = cli(project, "data", "push", "--event-only", "data/missing.csv")
    assert not_tracked.returncode == 1
    assert "'data/missing.csv' is not tracked by DVC here" in not_tracked.stderr
