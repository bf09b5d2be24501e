"""The rendered manifests, compose.yaml and the service registry tell the same story.

Service names, images, ports, health paths and the contract's variable names are defined
once (the registry, and compose.yaml for what only containers have); each check names the
first difference it finds.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from stratakit.contract import TELEMETRY_OFF
from stratakit.project import Project
from stratakit.stack.compose.environment import infra_dir
from stratakit.stack.compose.lifecycle import BACKING_SERVICES
from stratakit.stack.context import contract_for, prepare_context
from stratakit.stack.services import CONTAINER_SERVICES as SERVICES

from ....helpers.k8s import containers, find, pod_spec, rendered, workloads

COMPOSE = yaml.safe_load((infra_dir() / "compose" / "compose.yaml").read_text())
#: Services of compose.yaml and the registry, as the local overlay runs them.
ALL_SERVICES = {*SERVICES, *BACKING_SERVICES, "create-bucket"}
#: Health commands that are not HTTP: the same command in both.
EXEC_PROBES = {"postgres", "redis"}
PROMETHEUS = infra_dir() / "prometheus"
#: Liveness paths where readiness (what the other profiles ask) means more than "alive":
#: Prometheus's, and the gateway's, whose readiness waits for the models to load.
LIVENESS = {"prometheus": "/-/healthy", "gateway": "/v2/health/live"}


def first_difference(left: dict[str, Any], right: dict[str, Any]) -> str:
    for key in sorted(set(left) | set(right)):
        if left.get(key) != right.get(key):
            return f"{key}: {left.get(key)!r} != {right.get(key)!r}"
    return ""


def _main_container(workload: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = workload["spec"]["template"]["spec"]["containers"][0]
    return container


def _compose_image(service: str) -> str:
    match = re.fullmatch(r"\$\{[A-Z_]+:-(.+)\}", COMPOSE["services"][service]["image"])
    assert match, service
    return match.group(1)


def test_the_same_services_run_in_compose_and_on_kubernetes() -> None:
    kubernetes = {w["metadata"]["name"] for w in workloads(rendered("local"))}
    assert set(COMPOSE["services"]) == ALL_SERVICES
    assert kubernetes == ALL_SERVICES, sorted(kubernetes ^ ALL_SERVICES)


def test_images_are_the_compose_images() -> None:
    workloads_by_name = {w["metadata"]["name"]: w for w in workloads(rendered("local"))}
    images = {name: _main_container(w)["image"] for name, w in workloads_by_name.items()}
    expected = {name: _compose_image(name) for name in ALL_SERVICES}
    assert images == expected, first_difference(images, expected)


def test_ports_match_the_registry_and_compose() -> None:
    objects = rendered("local")
    ports, expected = {}, {}
    for name in ALL_SERVICES - {"create-bucket"}:
        workload = next(w for w in workloads(objects) if w["metadata"]["name"] == name)
        ports[name] = _main_container(workload)["ports"][0]["containerPort"]
        if name in SERVICES:
            expected[name] = SERVICES[name].default_port
        else:  # backing services: the port compose's health check asks
            health = " ".join(COMPOSE["services"][name]["healthcheck"]["test"])
            found = re.search(r"(?:port=|-p |127\.0\.0\.1:)(\d+)", health + " -p 6379")
            assert found, name
            expected[name] = int(found.group(1))
    assert ports == expected, first_difference(ports, expected)
    for name in ports:
        if name == "prefect-worker":
            continue  # its health port is not a Service: nobody but the kubelet asks it
        service = find(objects, "Service", name)["spec"]["ports"][0]
        assert service["port"] == ports[name], name


def test_health_paths_match_the_registry_and_compose(project: Project) -> None:
    ctx = prepare_context(project)
    probes, expected = {}, {}
    for workload in workloads(rendered("local")):
        name = workload["metadata"]["name"]
        container = _main_container(workload)
        if name == "create-bucket":
            continue
        for kind in ("readinessProbe", "livenessProbe"):
            probe = container[kind]
            probes[f"{name}.{kind}"] = (
                probe["httpGet"]["path"]
                if "httpGet" in probe
                else " ".join(probe["exec"]["command"])
            )
            health = " ".join(COMPOSE["services"][name]["healthcheck"]["test"][1:])
            if name in EXEC_PROBES:
                expected[f"{name}.{kind}"] = health.replace("$$", "$").replace("bash -c ", "", 1)
                probes[f"{name}.{kind}"] = probes[f"{name}.{kind}"].replace("bash -c ", "", 1)
            elif name == "object-store":  # SeaweedFS's /healthz, as compose's check asks
                expected[f"{name}.{kind}"] = "/healthz" if "/healthz" in health else health
            else:
                if name in SERVICES:
                    ready = urlsplit(SERVICES[name].spec(ctx).health_url).path
                    assert ready in health, (name, health)
                else:  # Prometheus: the path compose's check asks
                    ready = urlsplit(health.split()[-1]).path
                live = LIVENESS.get(name, ready)
                expected[f"{name}.{kind}"] = ready if kind == "readinessProbe" else live
    assert probes == expected, first_difference(probes, expected)


def test_prometheus_scrapes_the_clusters_services_with_the_shipped_files() -> None:
    objects = rendered("local")
    [config_map] = [
        o for o in objects
        if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("strata-prometheus-")
    ]  # fmt: skip
    for name in ("prometheus.yml", "rules.yml"):
        assert config_map["data"][name] == (PROMETHEUS / name).read_text(), f"{name} differs"
    [prometheus] = [w for w in workloads(objects) if w["metadata"]["name"] == "prometheus"]
    mounted = {v["configMap"]["name"] for v in pod_spec(prometheus)["volumes"] if "configMap" in v}
    assert mounted == {config_map["metadata"]["name"]}  # kustomize's hashed name
    scraped = yaml.safe_load(config_map["data"]["prometheus.yml"])["scrape_configs"]
    targets = [t for job in scraped for group in job["static_configs"] for t in group["targets"]]
    assert len(targets) == 3, targets
    for target in targets:  # each is a Service of the cluster, on a port it serves
        host, port = target.split(":")
        service = find(objects, "Service", host)
        assert int(port) in {p["port"] for p in service["spec"]["ports"]}, target


def test_the_cluster_contract_has_the_variables_of_every_profile(project: Project) -> None:
    local = contract_for(prepare_context(project))
    objects = rendered("local")
    config = find(objects, "ConfigMap", "strata-contract")["data"]
    gateway = next(w for w in workloads(objects) if w["metadata"]["name"] == "gateway")
    from_secret = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    assembled = {e["name"] for e in _main_container(gateway)["env"]} & set(local)
    cluster = set(config) | from_secret | assembled
    missing = sorted(set(local) - cluster)
    assert not missing, f"the cluster's contract lacks {missing[0]}"
    databases = ("STRATA_POSTGRES_", "STRATA_REDIS_")
    backing = {k for k in set(config) - set(local) if not k.startswith(databases)}
    assert not backing, f"the cluster's ConfigMap has {sorted(backing)[0]}, no profile's variable"


def test_telemetry_is_off_as_in_compose() -> None:
    config = find(rendered("local"), "ConfigMap", "strata-contract")["data"]
    for key, value in TELEMETRY_OFF.items():
        assert config[key] == value, key
    compose_mlflow = COMPOSE["services"]["mlflow"]["environment"]
    for key in ("DO_NOT_TRACK", "MLFLOW_DISABLE_TELEMETRY", "PREFECT_SERVER_ANALYTICS_ENABLED",
                "FEAST_USAGE"):  # fmt: skip
        assert config[key] == compose_mlflow[key], key


@pytest.mark.parametrize(
    "name", ["mlflow", "prefect", "prefect-worker", "gateway", "create-bucket"]
)
def test_commands_and_service_settings_match_compose(name: str) -> None:
    workload = next(w for w in workloads(rendered("local")) if w["metadata"]["name"] == name)
    container = _main_container(workload)
    compose = COMPOSE["services"][name]
    command = [part.replace("$(STRATA_BUCKET)", "BUCKET") for part in container["command"]]
    expected = [re.sub(r"\$\{STRATA_BUCKET[^}]*\}", "BUCKET", part) for part in compose["command"]]
    if name == "prefect-worker":  # the process worker becomes the Kubernetes one
        expected[expected.index("process")] = "kubernetes"
    assert command == expected, first_difference(
        dict(enumerate(command)), dict(enumerate(expected))
    )
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    fixed = {k: v for k, v in compose["environment"].items() if "${" not in str(v)}
    shared = {k: fixed[k] for k in fixed if k in env}
    hosts = "MLFLOW_SERVER_ALLOWED_HOSTS"
    if hosts in shared:  # the cluster adds the Service's DNS names (mlflow.NAMESPACE...)
        assert set(shared[hosts].split(",")) < set(env[hosts].split(","))
        shared[hosts] = env[hosts]
    assert {k: env[k] for k in shared} == shared, first_difference(
        {k: env[k] for k in shared}, shared
    )


def test_every_container_of_a_workload_uses_a_compose_image() -> None:
    allowed = {_compose_image(name) for name in ALL_SERVICES}
    for workload in workloads(rendered("production")):
        for container in containers(workload):
            assert container["image"] in allowed, container["name"]
