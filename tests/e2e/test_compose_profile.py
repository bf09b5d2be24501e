"""The compose profile for real: images built offline, containers, the same client tests.

One compose stack for the module (Docker from the shared container helper, a Debian base
made by debootstrap, the images built by `strata stack up --profile compose --build` from
the kit's lock). The object store, tracking and DVC tests of the embedded profile run here
again, unchanged, against the containers (the ``stack`` fixture below replaces the
session's embedded stack for this module); then what only containers have: Postgres and
Redis behind the services, restart policies, and data kept across `down` and `up`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
import redis

from stratakit.project import Project
from stratakit.stack.context import contract_for, load_context

from ..helpers.containers import debian_standin, docker, engine
from ..helpers.projects import make_project
from ..helpers.stacks import RunningStack
from .test_dvc import test_dvc_push_then_pull_from_a_fresh_clone  # noqa: F401
from .test_object_store import (  # noqa: F401
    test_list_with_prefix_and_delimiter,
    test_managed_transfer_upload,
    test_multipart_upload_of_60_mb_is_byte_identical,
    test_presigned_get_with_sigv4,
    test_put_get_round_trip,
    test_ranged_get,
    test_unsigned_requests_are_refused,
    test_wrong_secret_is_refused,
)
from .test_tracking import test_log_register_alias_and_load  # noqa: F401

pytestmark = pytest.mark.e2e

#: What the images install from Debian, so the stand-in base needs no apt inside a build.
BASE_PACKAGES = "ca-certificates,python3,python3-venv,binutils,postgresql-15,redis-server"
ROLES = ("platform", "object-store", "postgres", "redis")


def strata(project: Project, *args: str, timeout: float = 1800) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "stratakit.cli", *args, "-C", str(project.root)],
        capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert done.returncode == 0, f"strata {' '.join(args)}:\n{done.stdout[-5000:]}{done.stderr}"
    return done.stdout


def _images(run: str) -> str:
    lines = [f'{role} = "strata-test/{role}:{run}"' for role in ROLES]
    return "[tool.strata.stack.images]\n" + "\n".join(lines)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A compose stack, up and healthy, with images of this run's own names."""
    work = tmp_path_factory.mktemp("compose")
    run = uuid.uuid4().hex[:8]
    project = make_project(work / "compose-project", "compose-project", _images(run))
    created: list[str] = []
    with engine(work / "dockerd.log"):
        base = f"strata-test/debian-compose:{run}"
        created.append(debian_standin(work, base, BASE_PACKAGES))
        os.environ["STRATA_IMAGE_BASE"] = base
        try:
            strata(project, "stack", "up", "--profile", "compose", "--build")
            created.extend(
                docker("image", "inspect", "--format", "{{.Id}}", f"strata-test/{role}:{run}")
                for role in ROLES
            )
            yield RunningStack(project=project, contract=contract_for(load_context(project)))
        finally:
            os.environ.pop("STRATA_IMAGE_BASE", None)
            if project.state_file.exists():
                strata(project, "stack", "purge", "--yes")
            for image in reversed(created):
                docker("rmi", "--force", image, check=False)


def _status(stack: RunningStack) -> dict[str, dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "stratakit.cli", "stack", "status", "-f", "json",
         "-C", str(stack.project.root)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    report = json.loads(done.stdout)
    assert report["profile"] == "compose"
    return {row["name"]: row for row in report["services"]}


def _wait_healthy(stack: RunningStack, timeout: float = 180) -> dict[str, dict[str, object]]:
    deadline = time.monotonic() + timeout
    while True:
        rows = _status(stack)
        if all(row["healthy"] for row in rows.values()) or time.monotonic() > deadline:
            return rows
        time.sleep(2)


def test_every_container_is_healthy_and_published_on_loopback_only(stack: RunningStack) -> None:
    rows = _status(stack)
    assert set(rows) >= {"object-store", "mlflow", "prefect", "prefect-worker", "gateway",
                         "postgres", "redis"}  # fmt: skip
    assert all(row["healthy"] for row in rows.values()), rows
    assert all(int(str(row["rss_bytes"])) > 0 for row in rows.values()), rows
    ids = docker("ps", "--quiet", "--filter",
                 f"label=com.docker.compose.project={_project_name(stack)}").split()  # fmt: skip
    assert len(ids) == 7, ids  # the one-shot bucket job has exited
    for container in ids:
        ports = json.loads(docker("inspect", "--format", "{{json .NetworkSettings.Ports}}",
                                  container))  # fmt: skip
        for published in (ports or {}).values():
            for binding in published or []:
                assert binding["HostIp"] == "127.0.0.1", (container, ports)
    for url in (stack.contract["MLFLOW_TRACKING_URI"] + "/health",
                stack.contract["PREFECT_API_URL"] + "/health",
                stack.contract["STRATA_SERVING_URL"] + "/v2/health/live"):  # fmt: skip
        assert httpx.get(url, timeout=10).status_code == 200, url


def _project_name(stack: RunningStack) -> str:
    from stratakit.stack.compose.environment import compose_project_name

    return compose_project_name(load_context(stack.project))


def test_the_contract_has_the_embedded_profiles_variables(stack: RunningStack) -> None:
    from stratakit.stack.context import prepare_context

    embedded = make_project(stack.project.root.parent / "embedded-twin", "embedded-twin")
    assert set(contract_for(prepare_context(embedded))) == set(stack.contract)
    online = json.loads(stack.contract["STRATA_FEAST_ONLINE_STORE"])
    assert online["type"] == "redis"
    host_port, password = online["connection_string"].split(",password=")
    host, port = host_port.split(":")
    client = redis.Redis(host=host, port=int(port), password=password)
    assert client.ping()
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host=host, port=int(port), password="wrong").ping()


def test_down_and_up_keep_objects_and_runs_and_a_killed_service_comes_back(
    stack: RunningStack,
) -> None:
    env = stack.env()
    s3 = boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL_S3"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )
    s3.put_object(Bucket=stack.bucket, Key="kept/object.txt", Body=b"kept")
    logged = stack.python("""
        import mlflow
        mlflow.set_experiment("kept")
        with mlflow.start_run() as run:
            mlflow.log_metric("kept", 1.0)
        print(run.info.run_id)
    """)
    run_id = logged.stdout.strip().splitlines()[-1]

    mlflow_row = _status(stack)["mlflow"]
    assert mlflow_row["healthy"]
    project_label = f"label=com.docker.compose.project={_project_name(stack)}"
    mlflow_label = "label=com.docker.compose.service=mlflow"
    ids = docker("ps", "--quiet", "--filter", project_label, "--filter", mlflow_label)
    # A crash, not `docker kill` (which Docker counts as a deliberate stop): SIGKILL to the
    # container's first process, from the host.
    os.kill(int(docker("inspect", "--format", "{{.State.Pid}}", ids.split()[0])), 9)
    time.sleep(2)
    rows = _wait_healthy(stack)
    assert rows["mlflow"]["healthy"], rows  # the restart policy brought it back

    strata(stack.project, "stack", "down")
    assert not docker("ps", "--quiet", "--filter",
                      f"label=com.docker.compose.project={_project_name(stack)}")  # fmt: skip
    strata(stack.project, "stack", "up", "--profile", "compose")
    assert s3.get_object(Bucket=stack.bucket, Key="kept/object.txt")["Body"].read() == b"kept"
    found = stack.python(f"""
        import mlflow
        print(mlflow.get_run({run_id!r}).data.metrics["kept"])
    """)
    assert found.stdout.strip().splitlines()[-1] == "1.0"


def test_compose_file_passes_compose_config(stack: RunningStack) -> None:
    from stratakit.stack.compose.lifecycle import compose_for

    compose = compose_for(load_context(stack.project))
    rendered = compose.run("config", "--format", "json").stdout
    services = json.loads(rendered)["services"]
    assert services["mlflow"]["environment"]["MLFLOW_BACKEND_STORE_URI"].startswith(
        "postgresql+psycopg2://strata:"
    )
    assert Path(compose.env_file).stat().st_mode & 0o077 == 0
