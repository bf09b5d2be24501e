"""The kit's Kubernetes manifests rendered once per overlay, for the unit tests to inspect."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import yaml

from stratakit.settings.stack import IMAGE_ROLES
from stratakit.stack.compose.environment import default_image
from stratakit.stack.k8s.manifests import OVERLAYS, RenderSettings, render

#: A project as the tests render it: its own bucket, the kit's images, fixed credentials.
BUCKET = "churn-forecast-1a2b3c4d"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "STRATATESTKEY0000000",
    "AWS_SECRET_ACCESS_KEY": "test-secret-key-not-real",
    "STRATA_POSTGRES_PASSWORD": "test-postgres-password",
    "STRATA_REDIS_PASSWORD": "test-redis-password",
}
#: The workloads of the platform (pods that run its software), by overlay.
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}


def settings(overlay: str) -> RenderSettings:
    return RenderSettings(
        overlay=overlay,
        project="churn-forecast",
        bucket=BUCKET,
        images={role: default_image(role) for role in IMAGE_ROLES},
        credentials=CREDENTIALS if overlay == "local" else {},
    )


@functools.cache
def rendered_text(overlay: str) -> str:
    assert overlay in OVERLAYS
    return render(settings(overlay))


def rendered(overlay: str) -> list[dict[str, Any]]:
    """The overlay's objects (a fresh copy each call: tests may change them)."""
    return [doc for doc in yaml.safe_load_all(rendered_text(overlay)) if doc]


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    for obj in objects:
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return obj
    raise AssertionError(f"no {kind}/{name} rendered")


def workloads(objects: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    return (obj for obj in objects if obj["kind"] in WORKLOAD_KINDS)


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]
