"""The session's shared stack, and the contract as in-process clients see it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest

from ..helpers.projects import make_project
from ..helpers.stacks import RunningStack, launch, shut_down, use_random_ports


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    # gRPC is off by default; on here so the protocol's gRPC form is served by a real stack.
    project = make_project(
        tmp_path_factory.mktemp("stack") / "shared-project",
        "shared-project",
        "[tool.strata.serving]\ngrpc = true",
    )
    # This stack lives for the whole session: random ports keep the defaults free for tests
    # that need them (a dev container forwards the default ports).
    use_random_ports(project)
    running = launch(project)
    try:
        yield running
    finally:
        shut_down(project)


@pytest.fixture
def contract_env(stack: RunningStack, monkeypatch: pytest.MonkeyPatch) -> RunningStack:
    """In-process clients (boto3, MLflow) see the contract and nothing else of AWS/MLflow."""
    for key in list(os.environ):
        if key.startswith(("AWS_", "MLFLOW_", "PREFECT_")):
            monkeypatch.delenv(key)
    for key, value in stack.contract.items():
        monkeypatch.setenv(key, value)
    # boto3's default session keeps the first credentials it resolved: a worker that ran
    # another stack's tests before (the compose module) would sign with that stack's keys.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    return stack
