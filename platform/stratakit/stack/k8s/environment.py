"""The project's side of the Kubernetes profile: its credentials and its contract.

The credentials are the stack's own (``.strata/stack.json``, 0600): the S3 key pair and the
Postgres and Redis passwords the compose profile generates too, so the local overlay's
Secret and the developer's contract agree. The contract has the variables of
:func:`stratakit.stack.context.contract_for`, pointing at ``kubectl port-forward`` on
127.0.0.1; Feast's registry lives in the bucket, where the cluster's pods read it.
"""

from __future__ import annotations

from dataclasses import replace

from stratakit.project import Project
from stratakit.stack.context import COMPOSE_PASSWORDS, StackContext, contract_for
from stratakit.stack.files import ensure_private_dir
from stratakit.stack.services import CONTAINER_SERVICES
from stratakit.stack.state import StackState, load_state, new_state, save_state

#: The cluster's namespace (infra/k8s/overlays/*/namespace.yaml).
NAMESPACE = "strata"
#: The services a developer reaches through ``kubectl port-forward``, beyond the registry's
#: forwarded ones (name → port, the same on both ends).
BACKING_PORTS = {"redis": 6379}


def k8s_state(project: Project) -> StackState:
    """The project's stack state with the database passwords, created if need be.

    Only credentials are added: the ports and the profile recorded for the local stack stay.
    """
    state = load_state(project.state_file)
    created = state is None
    if state is None:
        state = new_state(project.slug, project.settings.bucket)
    if state.add_passwords(*COMPOSE_PASSWORDS) or created:
        ensure_private_dir(project.state_dir)
        save_state(project.state_file, state)
    return state


def forwarded_ports() -> dict[str, int]:
    """Each service a developer opens on the cluster, with its port (the cluster's own)."""
    ports = {name: d.default_port for name, d in CONTAINER_SERVICES.items()}
    return {**ports, **BACKING_PORTS}


def feast_registry(bucket: str) -> str:
    """Feast's registry in the bucket: the one place both the cluster and a laptop reach."""
    return f"s3://{bucket}/feast/registry.db"


def k8s_contract(project: Project) -> dict[str, str]:
    """The contract for a developer using the cluster through ``kubectl port-forward``.

    Like the compose profile's: MLflow signs presigned URLs for ``object-store:9000``, which
    only pods reach, so artifacts go through MLflow.
    """
    state = replace(k8s_state(project), ports=forwarded_ports(), profile="k8s")
    contract = contract_for(StackContext(project=project, state=state))
    contract["STRATA_FEAST_REGISTRY"] = feast_registry(state.bucket)
    return contract


def port_forward_commands() -> list[str]:
    """The ``kubectl port-forward`` commands that make :func:`k8s_contract` reachable."""
    forwarded = {name for name, d in CONTAINER_SERVICES.items() if d.forwarded} | set(BACKING_PORTS)
    return [
        f"kubectl -n {NAMESPACE} port-forward svc/{name} {port}:{port}"
        for name, port in forwarded_ports().items()
        if name in forwarded
    ]
