"""The stack tour of ``strata demo``: a scratch stack, each service used through the contract.

Each step uses the ordinary client of its tool (boto3, the MLflow client, the Prefect client),
configured by nothing but the environment contract, the way a project's own code would.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from stratakit.contract import exported
from stratakit.project import Project
from stratakit.stack.context import contract_for, load_context
from stratakit.stack.files import write_atomic
from stratakit.stack.lifecycle import ProgressCallback, ServiceStatus, start_stack, stop_stack

DEMO_MODEL = "strata-demo-classifier"
DEMO_FLOW = "strata-demo"
DEMO_DEPLOYMENT = "scheduled-demo"
DEMO_CRON = "0 6 * * *"


@dataclass(frozen=True)
class DemoStep:
    """What one step did, in a sentence, and how long it took."""

    service: str
    what: str
    seconds: float


@dataclass(frozen=True)
class DemoReport:
    """The stack after the demo and the steps it ran."""

    project: Project
    services: list[ServiceStatus]
    steps: list[DemoStep]


def ensure_demo_project(folder: Path) -> Project:
    """A minimal project folder for the demo (created when missing)."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    pyproject = folder / "pyproject.toml"
    if not pyproject.exists():
        write_atomic(
            pyproject,
            '[project]\nname = "strata-demo"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n',
            0o644,
        )
    return Project(root=folder)


def store_object(bucket: str) -> str:
    """Put an object into the project's bucket, read it back and list the prefix."""
    import boto3

    s3 = boto3.client("s3")
    body = f"hello from strata demo {uuid.uuid4()}\n".encode()
    key = "demo/hello.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    if s3.get_object(Bucket=bucket, Key=key)["Body"].read() != body:
        raise RuntimeError("the object read back differs from the one written")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="demo/")["KeyCount"]
    return f"stored and read back s3://{bucket}/{key} ({len(body)} bytes; {listed} under demo/)"


def register_model() -> str:
    """Train a small classifier, log it to MLflow, register it and alias it ``production``."""
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, target = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=300).fit(features, target)
    mlflow.set_experiment("strata-demo")
    with mlflow.start_run() as run:
        mlflow.log_params({"max_iter": 300, "model": "LogisticRegression"})
        mlflow.log_metric("train_accuracy", float(model.score(features, target)))
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(features, model.predict(features)),
            input_example=features.head(2),
            registered_model_name=DEMO_MODEL,
        )
    client = mlflow.MlflowClient()
    version = str(info.registered_model_version)
    client.set_registered_model_alias(DEMO_MODEL, "production", version)
    loaded = mlflow.pyfunc.load_model(f"models:/{DEMO_MODEL}@production")
    predictions = loaded.predict(features.head(3))
    return (
        f"run {run.info.run_id[:8]} logged; model {DEMO_MODEL} v{version} registered, "
        f"alias production set, loaded back and predicted {list(map(int, predictions))}"
    )


def run_scheduled_flow() -> str:
    """Deploy a flow with a cron schedule to the stack's pool and run it now through the API."""
    from prefect import Flow, flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    source = Path(__file__).parent
    # Prefect's API returns coroutines only inside an event loop; here it is synchronous.
    deployable = cast(
        "Flow[..., Any]",
        flow.from_source(source=str(source), entrypoint="retry_flow.py:demo_flow"),
    )
    with contextlib.redirect_stdout(io.StringIO()):
        deployable.deploy(
            name=DEMO_DEPLOYMENT,
            cron=DEMO_CRON,
            print_next_steps=False,
            ignore_warnings=True,
        )
    flow_run = cast(
        "FlowRun",
        run_deployment(
            f"{DEMO_FLOW}/{DEMO_DEPLOYMENT}", parameters={"marker": uuid.uuid4().hex}, timeout=180
        ),
    )
    state = flow_run.state
    if state is None or not state.is_completed():
        raise RuntimeError(f"flow run {flow_run.name} ended {state.name if state else 'unknown'}")
    # Task-run states reach the API through Prefect's event pipeline, which can trail the
    # flow run's own completion on a busy machine: wait until the flaky task shows its end.
    attempts = 0
    deadline = time.monotonic() + 30
    with get_client(sync_client=True) as client:
        while True:
            task_runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id]))
            )
            flaky = [t for t in task_runs if t.name.startswith("flaky_step")]
            done = [t for t in flaky if t.state is not None and t.state.is_completed()]
            attempts = max((t.run_count for t in flaky), default=0)
            if (done and attempts >= 2) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    return (
        f"deployed {DEMO_FLOW}/{DEMO_DEPLOYMENT} (cron '{DEMO_CRON}'), ran it now: "
        f"flow run '{flow_run.name}' {str(state.name).lower()}; "
        f"its flaky task ran {attempts} times (Prefect retried it {attempts - 1} time(s))"
    )


def run_demo(
    folder: Path,
    on_progress: ProgressCallback | None = None,
    on_step: Callable[[DemoStep], None] | None = None,
    stop_after: bool = False,
) -> DemoReport:
    """Bring the stack up in ``folder`` and exercise the object store, MLflow and Prefect."""
    project = ensure_demo_project(folder)
    services = start_stack(project, on_progress=on_progress)
    ctx = load_context(project)
    quiet = {
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
        "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    }
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    bucket = ctx.state.bucket
    steps: list[DemoStep] = []
    plan: list[tuple[str, Callable[[], str]]] = [
        ("object-store", lambda: store_object(bucket)),
        ("mlflow", register_model),
        ("prefect", run_scheduled_flow),
    ]
    try:
        with exported({**contract_for(ctx), **quiet}):
            for service, action in plan:
                started = time.perf_counter()
                what = action()
                step = DemoStep(service, what, time.perf_counter() - started)
                steps.append(step)
                if on_step:
                    on_step(step)
    finally:
        if stop_after:
            stop_stack(project)
    return DemoReport(project=project, services=services, steps=steps)
