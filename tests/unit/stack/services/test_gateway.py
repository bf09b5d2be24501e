"""The gateway service: loopback, its health URL, the contract's serving URL, its settings."""

from __future__ import annotations

from pathlib import Path

from stratakit.stack.context import contract_for, prepare_context
from stratakit.stack.services.gateway import SERVICE, extra_ports

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
    assert spec.health_url.endswith("/v2/health/ready")  # `up` waits for the models
    assert spec.forwarded
    assert spec.title == "model serving gateway"
    assert contract_for(ctx)["STRATA_SERVING_URL"] == f"http://127.0.0.1:{ctx.port('gateway')}"


def test_grpc_gets_a_port_and_a_contract_variable_on_the_embedded_profile_only(
    tmp_path: Path,
) -> None:
    off = prepare_context(make_project(tmp_path / "off", "off"))
    assert "STRATA_GATEWAY_GRPC_PORT" not in SERVICE.spec(off).environment
    assert "STRATA_SERVING_GRPC_ADDRESS" not in contract_for(off)

    project = make_project(tmp_path / "on", "on", "[tool.strata.serving]\ngrpc = true")
    extra = extra_ports(project.settings.serving)
    assert extra == {"gateway-grpc": 8081}
    on = prepare_context(project, extra_ports=extra)
    port = on.port("gateway-grpc")
    assert port != on.port("gateway")
    assert SERVICE.spec(on).environment["STRATA_GATEWAY_GRPC_PORT"] == str(port)
    assert contract_for(on)["STRATA_SERVING_GRPC_ADDRESS"] == f"127.0.0.1:{port}"

    # The same project on the compose profile (its state still records the gRPC port):
    # the containers' gateway does not publish it, so the contract does not name it.
    containers = prepare_context(project, extra_ports={"redis": 6379}, profile="compose")
    assert containers.state.ports["gateway-grpc"] == port
    assert "STRATA_SERVING_GRPC_ADDRESS" not in contract_for(containers)
