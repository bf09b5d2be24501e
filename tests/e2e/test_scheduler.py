"""A flow with a retrying task, deployed to the stack's work pool and triggered through the API."""

from __future__ import annotations

import json
import shutil
import uuid

import pytest

from ..helpers.stacks import RunningStack

pytestmark = pytest.mark.e2e

FLOW_SOURCE = """
from pathlib import Path
from prefect import flow, task

@task(retries=3, retry_delay_seconds=0)
def flaky(counter: str) -> int:
    path = Path(counter)
    attempts = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(attempts))
    if attempts < 2:
        raise RuntimeError("fails once on purpose")
    return attempts

@flow(name="e2e-retry")
def retry_flow(counter: str) -> int:
    return flaky(counter)
"""

CLIENT = """
import json, sys
from prefect import flow
from prefect.deployments import run_deployment
from prefect.client.orchestration import get_client

source, counter = sys.argv[1], sys.argv[2]
deployment_id = flow.from_source(source=source, entrypoint="flows.py:retry_flow").deploy(
    name="e2e", cron="*/30 * * * *", print_next_steps=False, ignore_warnings=True
)
run = run_deployment("e2e-retry/e2e", parameters={"counter": counter}, timeout=240)
with get_client(sync_client=True) as client:
    deployment = client.read_deployment(deployment_id)
    tasks = client.read_task_runs()
    flaky = [t for t in tasks if t.flow_run_id == run.id and t.name.startswith("flaky")]
    print(json.dumps({
        "state": run.state.type.value,
        "pool": deployment.work_pool_name,
        "schedules": [s.schedule.cron for s in deployment.schedules],
        "flaky_runs": [t.run_count for t in flaky],
        "result_file": open(counter).read(),
        "flow_run_id": str(run.id),
    }))
"""


def test_deployed_flow_retries_and_completes(stack: RunningStack) -> None:
    # In the project's folder, as flows are: the worker runs them from there (a container's
    # worker sees only that folder of the host).
    source = stack.project.root / f"e2e-flows-{uuid.uuid4().hex[:8]}"
    source.mkdir()
    (source / "flows.py").write_text(FLOW_SOURCE)
    (source / "client.py").write_text(CLIENT)
    counter = source / "attempts.txt"
    try:
        result = stack.python(
            f"import runpy, sys; sys.argv = ['c', {str(source)!r}, {str(counter)!r}]; "
            f"runpy.run_path({str(source / 'client.py')!r}, run_name='__main__')"
        )
    finally:
        shutil.rmtree(source)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["state"] == "COMPLETED"
    assert report["pool"] == "strata"
    assert report["schedules"] == ["*/30 * * * *"]
    assert report["flaky_runs"] == [2]  # failed once, retried once, then passed
    assert report["result_file"] == "2"
