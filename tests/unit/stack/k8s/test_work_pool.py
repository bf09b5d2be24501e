"""The Kubernetes work pool's base job template, as Prefect and its Kubernetes worker read it."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import TYPE_CHECKING, Any, cast

import kubernetes_validate
import pytest
from prefect.server.schemas.actions import WorkPoolCreate
from prefect.utilities.schema_tools.validation import is_valid_schema, validate
from prefect_kubernetes.worker import KubernetesWorker, KubernetesWorkerJobConfiguration

from stratakit.stack.k8s.manifests import JOB_TEMPLATES, k8s_dir
from stratakit.stack.services.scheduler import WORK_POOL

if TYPE_CHECKING:
    from prefect.client.orchestration import PrefectClient

from ....helpers.k8s import find, rendered


def _template(relative: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((k8s_dir() / relative).read_text())
    return loaded


def _defaults(template: dict[str, Any]) -> dict[str, Any]:
    return {
        key: spec["default"]
        for key, spec in template["variables"]["properties"].items()
        if "default" in spec
    }


@pytest.mark.parametrize("relative", JOB_TEMPLATES)
def test_prefects_server_accepts_the_template_for_a_kubernetes_pool(relative: str) -> None:
    template = _template(relative)
    pool = WorkPoolCreate(name="strata", type=KubernetesWorker.type, base_job_template=template)
    assert pool.base_job_template == template
    is_valid_schema(template["variables"])
    validate(_defaults(template), template["variables"], raise_on_error=True)


@pytest.mark.parametrize("relative", JOB_TEMPLATES)
def test_the_template_keeps_every_setting_of_the_workers_own(relative: str) -> None:
    ours, theirs = _template(relative), KubernetesWorker.get_default_base_job_template()
    assert set(ours["job_configuration"]) == set(theirs["job_configuration"])
    missing = set(theirs["variables"]["properties"]) - set(ours["variables"]["properties"])
    assert not missing, sorted(missing)


@pytest.mark.parametrize("relative", JOB_TEMPLATES)
def test_a_flow_runs_job_is_a_valid_locked_down_kubernetes_job(relative: str) -> None:
    template = _template(relative)
    configuration = asyncio.run(
        KubernetesWorkerJobConfiguration.from_template_and_values(
            template,
            {"env": {"PREFECT_API_URL": "http://prefect:4200/api"}},
            # No block or variable references to resolve: no server (nor client) is needed.
            client=cast("PrefectClient", object()),
        )
    )
    job = copy.deepcopy(configuration.job_manifest)
    job["metadata"]["name"] = "flow-run-1"
    pod = job["spec"]["template"]["spec"]
    # The worker insists on these two in the pod spec (its own default template has them
    # there); the API server drops them. Kubernetes reads them from the Job's spec.
    assert (pod.pop("completions"), pod.pop("parallelism")) == (1, 1)
    kubernetes_validate.validate(job, "1.31.0", strict=True)
    assert pod["serviceAccountName"] == "strata-flow-run"
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert container["envFrom"] == [{"configMapRef": {"name": "strata-contract"}}]
    names = [env["name"] for env in container["env"]]
    # Redis's password comes before the online store's block, which refers to it.
    assert names.index("STRATA_REDIS_PASSWORD") < names.index("STRATA_FEAST_ONLINE_STORE")


def test_the_gpu_template_is_the_base_one_plus_gpus() -> None:
    base, gpu = _template(JOB_TEMPLATES[0]), _template(JOB_TEMPLATES[1])
    gpu_pod = gpu["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]
    del gpu_pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"]
    del gpu_pod["tolerations"]
    del gpu["variables"]["properties"]["gpu_limit"]
    assert gpu == base


def test_the_worker_creates_the_pool_from_the_rendered_template() -> None:
    objects = rendered("local")
    worker = find(objects, "Deployment", "prefect-worker")["spec"]["template"]["spec"]
    (init,) = worker["initContainers"]
    command = init["command"]
    pool = command[command.index("create") + 1]
    assert pool == WORK_POOL  # the pool deployments use (PREFECT_DEFAULT_WORK_POOL_NAME)
    assert command[command.index("--type") + 1] == "kubernetes"
    assert "--overwrite" in command
    volume = next(v for v in worker["volumes"] if v["name"] == "base-job-template")
    config = find(objects, "ConfigMap", volume["configMap"]["name"])
    assert set(config["data"]) == {"base-job-template.json"}
    main = worker["containers"][0]["command"]
    assert main[main.index("--pool") + 1] == pool
    assert main[main.index("--type") + 1] == "kubernetes"
