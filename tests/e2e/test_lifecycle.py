"""Crashes, restarts and persistence of one project's stack."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import psutil
import pytest

from stratakit.stack.context import load_context
from stratakit.stack.health import is_healthy
from stratakit.stack.lifecycle import stack_status, start_stack, stop_stack
from stratakit.stack.processes import find_marked
from stratakit.stack.services import build_specs
from stratakit.stack.supervisor import SupervisorClient, config_path

from ..helpers.projects import make_project
from ..helpers.stacks import RunningStack, launch, shut_down

pytestmark = pytest.mark.e2e

# A bound for "it comes back", not a speed target: recovery time is measured by
# `nox -s bench`, because a loaded 2-core machine needs far longer than an idle one.
RECOVERY_SECONDS = 90.0


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    project = make_project(tmp_path_factory.mktemp("life") / "lifecycle", "lifecycle")
    running = launch(project)
    try:
        yield running
    finally:
        shut_down(project)


def listeners(port: int) -> list[int]:
    return [
        c.pid
        for c in psutil.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid
    ]


def belongs_to(pid: int, root: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return pid == root or root in {p.pid for p in proc.parents()}
    except psutil.Error:
        return False


def make_records(stack: RunningStack, tag: str) -> None:
    stack.python(
        f"""
        import boto3, mlflow
        from prefect import flow
        boto3.client("s3").put_object(Bucket="{stack.bucket}", Key="keep/{tag}", Body=b"{tag}")
        mlflow.set_experiment("persist")
        with mlflow.start_run(run_name="{tag}"):
            mlflow.log_metric("m", 1.0)
        mlflow.MlflowClient().create_registered_model("model-{tag}")

        @flow(name="persist-{tag}")
        def f() -> int:
            return 1

        f()
        """
    )


def check_records(stack: RunningStack, tag: str) -> None:
    stack.python(
        f"""
        import asyncio, boto3, mlflow
        from prefect.client.orchestration import get_client
        body = boto3.client("s3").get_object(Bucket="{stack.bucket}", Key="keep/{tag}")["Body"]
        assert body.read() == b"{tag}"
        runs = mlflow.search_runs(experiment_names=["persist"], filter_string="run_name = '{tag}'")
        assert len(runs) == 1, runs
        assert mlflow.MlflowClient().get_registered_model("model-{tag}").name == "model-{tag}"
        with get_client(sync_client=True) as client:
            names = [f.name for f in client.read_flows()]
            assert "persist-{tag}" in names, names
            assert any(r.state.is_completed() for r in client.read_flow_runs())
        """
    )


def test_every_listener_is_loopback_only(own_stack: RunningStack) -> None:
    ctx = load_context(own_stack.project)
    pids: set[int] = set()
    for proc in find_marked(ctx.state.project_id):
        pids.add(proc.pid)
    listening = [
        c
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.pid in pids
    ]
    assert len({c.laddr.port for c in listening}) >= len(build_specs(ctx))
    for conn in listening:
        assert conn.laddr.ip == "127.0.0.1", conn


def test_up_twice_is_harmless(own_stack: RunningStack) -> None:
    before = {s.name: s.pid for s in stack_status(own_stack.project)}
    statuses = start_stack(own_stack.project)
    assert all(s.healthy for s in statuses)
    assert {s.name: s.pid for s in statuses} == before


@pytest.mark.parametrize("service", ["object-store", "mlflow", "prefect", "prefect-worker"])
def test_service_recovers_from_kill_9(own_stack: RunningStack, service: str) -> None:
    ctx = load_context(own_stack.project)
    spec = next(s for s in build_specs(ctx) if s.name == service)
    client = SupervisorClient(own_stack.project)
    old_pid = client.processes()[service].pid
    os.kill(old_pid, signal.SIGKILL)
    killed_at = time.monotonic()
    deadline = killed_at + RECOVERY_SECONDS
    new_pid = old_pid
    while time.monotonic() < deadline:
        info = client.processes()[service]
        new_pid = info.pid
        if info.state == "RUNNING" and new_pid != old_pid and is_healthy(spec.health_url):
            owners = listeners(spec.port)
            if owners and all(belongs_to(pid, new_pid) for pid in owners):
                break
        time.sleep(0.2)
    else:
        pytest.fail(f"{service} not healthy with a clean port {RECOVERY_SECONDS} s after kill -9")
    print(f"{service} recovered in {time.monotonic() - killed_at:.1f} s")
    assert (
        not psutil.pid_exists(old_pid) or psutil.Process(old_pid).status() == psutil.STATUS_ZOMBIE
    )


def test_state_survives_down_up_and_crashes(own_stack: RunningStack) -> None:
    tag = uuid.uuid4().hex[:8]
    make_records(own_stack, tag)
    assert stop_stack(own_stack.project)
    assert not find_marked(load_context(own_stack.project).state.project_id)
    start_stack(own_stack.project)
    check_records(own_stack, tag)

    # A crash of every service at once, then supervisor brings them back.
    client = SupervisorClient(own_stack.project)
    for info in client.processes().values():
        os.kill(info.pid, signal.SIGKILL)
    time.sleep(1)
    assert all(s.healthy for s in start_stack(own_stack.project))
    check_records(own_stack, tag)


def test_up_recovers_after_supervisord_itself_is_killed(own_stack: RunningStack) -> None:
    client = SupervisorClient(own_stack.project)
    os.kill(client.daemon_pid(), signal.SIGKILL)
    time.sleep(0.5)
    assert not client.is_running()
    statuses = start_stack(own_stack.project)
    assert all(s.healthy for s in statuses)
    ctx = load_context(own_stack.project)
    supervised = {info.pid for info in SupervisorClient(own_stack.project).processes().values()}
    for proc in find_marked(ctx.state.project_id):
        assert any(belongs_to(proc.pid, root) for root in supervised), proc


def test_a_port_taken_while_a_service_was_stopped_is_chosen_again(
    own_stack: RunningStack,
) -> None:
    """Another program binds the object store's port while it is stopped (as a restarting
    container can): `up` fails to start it there, chooses another port once, and the
    contract in `.env` follows. Last in the module: the stack's ports change."""
    taken = load_context(own_stack.project).port("object-store")
    config = str(config_path(own_stack.project))
    subprocess.run(
        [sys.executable, "-m", "supervisor.supervisorctl", "-c", config, "stop", "object-store"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    progress: list[tuple[str, str]] = []
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", taken))
        squatter.listen()
        statuses = start_stack(
            own_stack.project, lambda name, status: progress.append((name, status))
        )
        assert all(s.healthy for s in statuses), statuses
        moved = load_context(own_stack.project).port("object-store")
        assert moved != taken
        assert ("object-store", f"port {taken} was taken meanwhile; choosing another") in progress
        env_file = own_stack.project.env_file.read_text()
        assert re.search(rf"127\.0\.0\.1:{moved}\b", env_file)
        assert not re.search(rf"127\.0\.0\.1:{taken}\b", env_file)
        assert listeners(taken) == [os.getpid()]  # the squatter's still: the stack moved
