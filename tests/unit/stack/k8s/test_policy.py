"""Production hygiene of every rendered workload: probes, limits, non-root, labels, policies."""

from __future__ import annotations

import re
from typing import Any

import pytest

from stratakit.stack.k8s.manifests import OVERLAYS

from ....helpers.k8s import containers, find, pod_spec, rendered, workloads

#: Containers that run and exit (no server to probe).
ONE_SHOT = {"create-bucket", "work-pool"}
#: What a secret looks like, in a key or in a value.
SECRET_KEY = re.compile(r"PASSWORD|SECRET|TOKEN|ACCESS_KEY|PRIVATE", re.IGNORECASE)
SECRET_VALUE = re.compile(r"://[^/\s:@]+:[^@\s$]+@")  # credentials inside a URL


def _cases() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (overlay, f"{w['kind']}/{w['metadata']['name']}", w)
        for overlay in OVERLAYS
        for w in workloads(rendered(overlay))
    ]


CASES = _cases()
IDS = [f"{overlay}-{name}" for overlay, name, _ in CASES]


@pytest.mark.parametrize(("overlay", "name", "workload"), CASES, ids=IDS)
def test_every_container_is_probed_limited_and_locked_down(
    overlay: str, name: str, workload: dict[str, Any]
) -> None:
    spec = pod_spec(workload)
    security = spec["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] > 0, name
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}, name
    for container in containers(workload):
        where = f"{name}:{container['name']}"
        if container["name"] not in ONE_SHOT:
            assert {"readinessProbe", "livenessProbe"} <= set(container), where
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]), where
        assert {"cpu", "memory"} <= set(resources["limits"]), where
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, where
        assert context["readOnlyRootFilesystem"] is True, where
        assert context["capabilities"] == {"drop": ["ALL"]}, where
        image = container["image"]
        assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), where


@pytest.mark.parametrize(("overlay", "name", "workload"), CASES, ids=IDS)
def test_only_the_worker_mounts_an_api_token(
    overlay: str, name: str, workload: dict[str, Any]
) -> None:
    wants_token = workload["metadata"]["name"] == "prefect-worker"
    assert pod_spec(workload)["automountServiceAccountToken"] is wants_token, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_carries_the_recommended_labels(overlay: str) -> None:
    for obj in rendered(overlay):
        labels = obj["metadata"].get("labels", {})
        assert labels.get("app.kubernetes.io/part-of") == "stratakit", obj["metadata"]["name"]
        if obj["kind"] not in {"ConfigMap", "Secret"}:
            assert "app.kubernetes.io/name" in labels, obj["metadata"]["name"]
    for workload in workloads(rendered(overlay)):
        pod_labels = workload["spec"]["template"]["metadata"]["labels"]
        assert pod_labels["app.kubernetes.io/name"] == workload["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_config_maps_hold_no_secrets(overlay: str) -> None:
    for obj in rendered(overlay):
        if obj["kind"] != "ConfigMap":
            continue
        for key, value in obj.get("data", {}).items():
            if key.endswith(".json"):
                continue  # the job template names Secret keys, it holds none
            assert not SECRET_KEY.search(key), (obj["metadata"]["name"], key)
            assert not SECRET_VALUE.search(value), (obj["metadata"]["name"], key)


def test_only_the_platforms_services_reach_postgres_and_redis() -> None:
    objects = rendered("local")
    allowed = {"postgres": {"mlflow", "prefect"}, "redis": {"gateway", "flow-run"}}
    for name, clients in allowed.items():
        policy = find(objects, "NetworkPolicy", name)["spec"]
        assert policy["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": name}}
        assert policy["policyTypes"] == ["Ingress"]
        (rule,) = policy["ingress"]
        (peer,) = rule["from"]
        (expression,) = peer["podSelector"]["matchExpressions"]
        assert expression["operator"] == "In" and set(expression["values"]) == clients


def test_the_gateway_is_replicated_behind_a_budget_and_an_autoscaler() -> None:
    for overlay in OVERLAYS:
        objects = rendered(overlay)
        assert find(objects, "PodDisruptionBudget", "gateway")["spec"]["maxUnavailable"] == 1
        hpa = find(objects, "HorizontalPodAutoscaler", "gateway")["spec"]
        assert hpa["scaleTargetRef"]["name"] == "gateway"
        assert hpa["maxReplicas"] > hpa["minReplicas"] >= 1


def test_the_namespace_enforces_the_restricted_pod_security_standard() -> None:
    for overlay in OVERLAYS:
        namespace = find(rendered(overlay), "Namespace", "strata")
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
