"""Pointing Prefect at the project's scheduler: the project's resource id, and a down stack."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from stratakit.errors import StackNotRunningError
from stratakit.flows.connection import prefect_api, resource_id
from stratakit.project import Project
from stratakit.stack.context import prepare_context

from ...helpers.projects import make_project
from ...helpers.stacks import use_random_ports


def test_the_resource_id_is_the_projects_slug(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", "Churn Forecast_v2")
    assert resource_id(project) == "strata.project.churn-forecast-v2"


def test_a_stopped_scheduler_is_reported_at_once_with_how_to_start_it(project: Project) -> None:
    use_random_ports(project)
    ctx = prepare_context(project)
    api = f"{ctx.endpoint('prefect')}/api"
    before = os.environ.get("PREFECT_API_URL")
    started = time.monotonic()
    with pytest.raises(StackNotRunningError) as caught, prefect_api(project):
        pytest.fail("the block must not run while the scheduler is down")
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert "scheduler" in message
    assert api in message
    assert "strata stack up" in message
    assert os.environ.get("PREFECT_API_URL") == before  # nothing was exported


def test_a_project_never_set_up_is_told_to_start_the_stack(project: Project) -> None:
    with pytest.raises(StackNotRunningError, match="strata stack up"), prefect_api(project):
        pytest.fail("the block must not run before the stack is set up")
