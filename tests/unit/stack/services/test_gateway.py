"""The gateway service: loopback, its health URL, the contract's serving URL, its settings."""

from __future__ import annotations

from pathlib import Path

from stratakit.stack.context import contract_for, prepare_context
from stratakit.stack.services.gateway import SERVICE

from ....helpers.projects import make_project


def test_the_gateway_runs_on_loopback_with_the_projects_serving_settings(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "p", "p", '[tool.strata.serving]\nalias = "champion"\npoll_seconds = 0.5'
    )
    ctx = prepare_context(project)
    spec = SERVICE.spec(ctx)
    assert spec.environment["STRATA_GATEWAY_HOST"] == "127.0.0.1"
    assert spec.environment["STRATA_SERVING_ALIAS"] == "champion"
    assert spec.environment["STRATA_GATEWAY_POLL_SECONDS"] == "0.5"
    assert spec.health_url.endswith("/v2/health/live")
    assert spec.forwarded
    assert spec.title == "model serving gateway"
    assert contract_for(ctx)["STRATA_SERVING_URL"] == f"http://127.0.0.1:{ctx.port('gateway')}"
