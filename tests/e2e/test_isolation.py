"""Several projects on one machine, taken ports, and a service that cannot start."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from stratakit.errors import StackStartError
from stratakit.stack.context import load_context, prepare_context
from stratakit.stack.lifecycle import start_stack
from stratakit.stack.ports import free_port
from stratakit.stack.processes import find_marked
from stratakit.stack.state import save_state
from stratakit.stack.supervisor import SupervisorClient

from ..helpers.projects import make_project
from ..helpers.stacks import RunningStack, launch, shut_down

pytestmark = pytest.mark.e2e


@pytest.fixture
def foreign_listener() -> Iterator[int]:
    """Another program (not ours) listening on a port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", free_port()))
    sock.listen()
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def files_of(root: Path) -> set[Path]:
    return {p.resolve() for p in (root / ".strata").rglob("*")}


def test_two_projects_share_no_port_file_or_credential(
    stack: RunningStack, tmp_path: Path, foreign_listener: int
) -> None:
    other = make_project(tmp_path / "second", "second")
    # The second project once chose a port that another program now holds.
    ctx = prepare_context(other)
    ctx.state.ports["object-store"] = foreign_listener
    save_state(other.state_file, ctx.state)
    try:
        second = launch(other)
        first_ctx, second_ctx = load_context(stack.project), load_context(other)
        first_ports = set(first_ctx.state.ports.values())
        second_ports = set(second_ctx.state.ports.values())
        assert not first_ports & second_ports
        assert foreign_listener not in second_ports
        assert second_ctx.state.access_key != first_ctx.state.access_key
        assert second_ctx.state.secret_key != first_ctx.state.secret_key
        assert second_ctx.state.bucket != first_ctx.state.bucket
        assert not files_of(stack.project.root) & files_of(other.root)
        assert SupervisorClient(stack.project).socket != SupervisorClient(other).socket

        # One project's credentials open nothing in the other's store.
        intruder = boto3.session.Session(
            aws_access_key_id=stack.contract["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=stack.contract["AWS_SECRET_ACCESS_KEY"],
            region_name="us-east-1",
        ).client("s3", endpoint_url=second.contract["AWS_ENDPOINT_URL_S3"])
        with pytest.raises(ClientError):
            intruder.list_objects_v2(Bucket=second.bucket)
    finally:
        shut_down(other)
    assert all(s.healthy for s in start_stack(stack.project))  # the first one is untouched


def test_a_service_that_cannot_start_fails_fast_and_stops_the_rest(tmp_path: Path) -> None:
    broken = make_project(tmp_path / "broken", "broken")
    ctx = prepare_context(broken)
    # A folder where MLflow's SQLite database file should be: MLflow cannot open it.
    (broken.data_dir / "mlflow" / "mlflow.db").mkdir(parents=True)
    with pytest.raises(StackStartError) as excinfo:
        start_stack(broken)
    error = excinfo.value
    assert error.service == "mlflow"
    assert "mlflow.log" in str(error)
    assert "cannot open database" in error.log_tail
    assert not find_marked(ctx.state.project_id)
    assert not SupervisorClient(broken).is_running()
    assert (broken.data_dir / "mlflow" / "mlflow.db").is_dir()  # nothing was deleted
