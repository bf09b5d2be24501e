"""The contract for a developer on the cluster, and the CLI that prints and renders it."""

from __future__ import annotations

import json

from stratakit.project import Project
from stratakit.stack.context import contract_for, prepare_context
from stratakit.stack.k8s.environment import k8s_contract, port_forward_commands
from stratakit.stack.state import load_state

from ....helpers.projects import assert_one_line_error, strata


def test_the_cluster_contract_has_the_same_variables_on_loopback(project: Project) -> None:
    contract = k8s_contract(project)
    state = load_state(project.state_file)
    assert state is not None
    assert set(contract) == set(contract_for(prepare_context(project)))
    assert contract["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:5000"
    assert contract["AWS_ENDPOINT_URL_S3"] == "http://127.0.0.1:9000"
    assert contract["PREFECT_API_URL"] == "http://127.0.0.1:4200/api"
    assert contract["STRATA_SERVING_URL"] == "http://127.0.0.1:8080"
    assert contract["STRATA_FEAST_REGISTRY"] == f"s3://{state.bucket}/feast/registry.db"
    online = json.loads(contract["STRATA_FEAST_ONLINE_STORE"])
    assert online["connection_string"] == f"127.0.0.1:6379,password={state.password('redis')}"
    assert contract["MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD"] == "false"


def test_the_contract_leaves_the_local_stacks_choices_alone(project: Project) -> None:
    prepare_context(project)
    before = load_state(project.state_file)
    k8s_contract(project)
    after = load_state(project.state_file)
    assert before is not None and after is not None
    assert (after.ports, after.profile, after.secret_key) == (
        before.ports,
        before.profile,
        before.secret_key,
    )


def test_port_forwards_cover_every_url_of_the_contract(project: Project) -> None:
    commands = " ".join(port_forward_commands())
    for port in ("9000", "5000", "4200", "8080", "6379"):
        assert f"{port}:{port}" in commands
    assert "prefect-worker" not in commands


def test_the_cli_prints_the_contract_and_the_port_forwards(project: Project) -> None:
    done = strata("stack", "env", "--profile", "k8s", "--format", "json", cwd=project.root)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:5000"
    assert "kubectl -n strata port-forward svc/mlflow 5000:5000" in done.stderr


def test_the_cli_renders_an_overlay_to_a_private_file(project: Project) -> None:
    done = strata(
        "stack", "render", "k8s", "--overlay", "local", "--output", "out", cwd=project.root
    )
    assert done.returncode == 0, done.stderr
    written = project.root / "out" / "local.yaml"
    assert written.stat().st_mode & 0o777 == 0o600
    assert "kind: Secret" in written.read_text()


def test_the_cli_refuses_an_unknown_overlay_or_profile_in_one_line(project: Project) -> None:
    assert_one_line_error(
        strata("stack", "render", "k8s", "--overlay", "staging", cwd=project.root),
        "local, production",
    )
    assert_one_line_error(strata("stack", "env", "--profile", "cloud", cwd=project.root), "k8s")
