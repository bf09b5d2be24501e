"""compose.yaml against the service registry: names, ports, health paths, variables.

The registry (``stratakit.stack.services``) is the one definition; the compose file is
written for people to read, and this test fails when the two drift apart.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from stratakit.contract import TELEMETRY_OFF
from stratakit.project import Project
from stratakit.stack.compose.environment import (
    EXTRA_PORTS,
    PORT_VARIABLES,
    UPSTREAM_IMAGES,
    compose_environment,
    infra_dir,
)
from stratakit.stack.compose.lifecycle import BACKING_SERVICES
from stratakit.stack.context import contract_for, prepare_context
from stratakit.stack.services import CONTAINER_SERVICES as SERVICES

COMPOSE_FILE = infra_dir() / "compose" / "compose.yaml"
#: Variables only ``compose build`` reads.
BUILD_ONLY = {"STRATA_IMAGE_BASE"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def _health_command(service: dict[str, Any]) -> str:
    return " ".join(service["healthcheck"]["test"])


def test_every_service_of_the_registry_runs_in_compose(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {*SERVICES, *BACKING_SERVICES, "create-bucket"}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_ports_and_health_paths_match_the_registry(
    compose: dict[str, Any], project: Project, name: str
) -> None:
    definition = SERVICES[name]
    spec = definition.spec(prepare_context(project))
    service = compose["services"][name]
    health = urlsplit(spec.health_url)
    if name != "object-store":  # SeaweedFS answers /healthz; rclone has no such path
        assert f"127.0.0.1:{definition.default_port}{health.path}" in _health_command(service)
    published = service.get("ports", [])
    if definition.forwarded:
        variable = PORT_VARIABLES[name]
        assert published == [
            f"127.0.0.1:${{{variable}:-{definition.default_port}}}:{definition.default_port}"
        ]
    else:
        assert published == []


def test_only_loopback_is_published_and_backends_stay_inside(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
    assert "ports" not in compose["services"]["postgres"]
    assert compose["networks"]["backend"]["internal"] is True
    redis = compose["services"]["redis"]["ports"]
    assert redis == [f"127.0.0.1:${{STRATA_REDIS_PORT:-{EXTRA_PORTS['redis']}}}:6379"]
    prometheus = compose["services"]["prometheus"]["ports"]
    default = EXTRA_PORTS["prometheus"]
    assert prometheus == [f"127.0.0.1:${{STRATA_PROMETHEUS_PORT:-{default}}}:9090"]


def test_prometheus_runs_the_upstream_image_locked_down_with_the_shipped_files(
    compose: dict[str, Any],
) -> None:
    service = compose["services"]["prometheus"]
    assert service["image"] == f"${{STRATA_PROMETHEUS_IMAGE:-{UPSTREAM_IMAGES['prometheus']}}}"
    assert "build" not in service  # the kit builds no Prometheus image
    assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
    assert service["user"] == "65534:65534"
    [config] = [v for v in service["volumes"] if isinstance(v, dict)]
    mounted = (COMPOSE_FILE.parent / config["source"]).resolve()
    assert mounted == (infra_dir() / "prometheus").resolve() and config["read_only"] is True
    shipped = yaml.safe_load((mounted / "prometheus.yml").read_text())
    assert shipped["rule_files"] == ["rules.yml"] and (mounted / "rules.yml").is_file()
    for job in shipped["scrape_configs"]:  # every target is a service of this file, on its port
        for target in (t for group in job["static_configs"] for t in group["targets"]):
            host, port = target.split(":")
            assert host in compose["services"], target
            assert host in SERVICES and int(port) == SERVICES[host].default_port, target
            assert set(compose["services"][host]["networks"]) & set(service["networks"]), target


def test_the_env_file_gives_every_variable_the_file_requires(project: Project) -> None:
    ctx = prepare_context(project, extra_ports=EXTRA_PORTS, profile="compose")
    given = set(compose_environment(ctx))
    text = COMPOSE_FILE.read_text()
    uncommented = "\n".join(line.split(" #")[0] for line in text.splitlines()
                            if not line.lstrip().startswith("#"))  # fmt: skip
    # Every variable the file uses without a default: the env file must give it.
    used = set(re.findall(r"\$\{(STRATA_[A-Z0-9_]+)(?![A-Z0-9_]|:-)", uncommented))
    assert used - BUILD_ONLY <= given, sorted(used - BUILD_ONLY - given)
    required = set(re.findall(r"\$\{(STRATA_[A-Z0-9_]+):\?", uncommented))
    assert {"STRATA_S3_SECRET_KEY", "STRATA_POSTGRES_PASSWORD", "STRATA_REDIS_PASSWORD"} <= required
    assert not re.search(r"PASSWORD[^\n]*:-", uncommented), "a password with a default"


def test_telemetry_is_off_in_every_python_service(compose: dict[str, Any]) -> None:
    for name in ("mlflow", "prefect", "prefect-worker", "gateway", "create-bucket"):
        environment = compose["services"][name]["environment"]
        assert {key: environment.get(key) for key in TELEMETRY_OFF} == dict(TELEMETRY_OFF), name


def test_flows_in_the_worker_see_the_whole_contract(
    compose: dict[str, Any], project: Project
) -> None:
    """A flow run in the worker container gets every variable a flow on the host gets."""
    contract = contract_for(prepare_context(project, extra_ports=EXTRA_PORTS, profile="compose"))
    worker = compose["services"]["prefect-worker"]["environment"]
    assert sorted(set(contract) - set(worker)) == []
    weed = " ".join(compose["services"]["object-store"].get("command") or [])
    dockerfile = (infra_dir() / "images" / "platform" / "Dockerfile").read_text()
    assert "-master.telemetry=false" in weed or "-master.telemetry=false" in dockerfile


def test_the_images_build_from_the_files_in_infra(compose: dict[str, Any]) -> None:
    folder = COMPOSE_FILE.parent
    for name, service in compose["services"].items():
        if "build" in service:
            assert (folder / service["build"]["context"] / "Dockerfile").is_file(), name
    assert Path(folder / "../images/build-wheelhouse.sh").is_file()


def test_the_compose_file_follows_the_compose_specification() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("check-jsonschema")), "--builtin-schema",
         "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("image", ["platform", "postgres", "redis"])
def test_image_recipes_are_hadolint_clean_pinned_and_non_root(image: str) -> None:
    dockerfile = infra_dir() / "images" / image / "Dockerfile"
    done = subprocess.run(
        [str(Path(sys.executable).with_name("hadolint")), "--no-color", str(dockerfile)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    text = dockerfile.read_text()
    assert re.search(r"^ARG BASE=debian:bookworm-\d{8}-slim$", text, re.MULTILINE), "base pinned"
    assert re.search(r"^USER (?!root)\S+", text, re.MULTILINE), "runs as a non-root user"
    assert "HEALTHCHECK" in text and "org.opencontainers.image.title" in text
