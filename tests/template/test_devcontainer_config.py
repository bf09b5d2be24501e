"""Every generated devcontainer.json is valid, parsed by the real dev container CLI, and agrees
with the image, the stack and the project (fast: rendering only, no container engine)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import json5
import jsonschema
import pytest
import yaml

from stratakit.contract import TELEMETRY_OFF
from stratakit.stack.services import SERVICES

from ..helpers.templates import KIT_ROOT

SCHEMA = json.loads((KIT_ROOT / "tests" / "schemas" / "devContainer.base.schema.json").read_text())
DOCKERFILE = KIT_ROOT / "devcontainer" / "Dockerfile"
DEVCONTAINER_CLI = KIT_ROOT / "node_modules" / ".bin" / "devcontainer"
JUPYTER_PORT = 8888
LIFECYCLE = ("postCreateCommand", "postStartCommand")

Rendered = tuple[Path, dict[str, Any]]


def config_of(root: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json5.loads((root / ".devcontainer" / "devcontainer.json").read_text())
    return loaded


def schema_errors(config: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft201909Validator(SCHEMA)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(config)]


def forwarded_stack_ports() -> set[int]:
    return {d.default_port for d in SERVICES.values() if d.forwarded}


def test_config_validates_against_the_dev_container_schema(rendered: Rendered) -> None:
    root, _ = rendered
    assert schema_errors(config_of(root)) == []


def test_schema_validation_is_strict(rendered: Rendered) -> None:
    root, _ = rendered
    config = config_of(root)
    config["hostRequirement"] = {"gpu": "optional"}  # a typo must not pass
    assert any("hostRequirement" in error for error in schema_errors(config))
    config = config_of(root)
    config["hostRequirements"]["gpu"] = "sometimes"
    assert schema_errors(config)


def test_gpu_is_optional_for_cuda_and_absent_for_cpu(rendered: Rendered) -> None:
    root, answers = rendered
    config = config_of(root)
    assert config["build"]["args"]["VARIANT"] == answers["devcontainer"]
    if answers["devcontainer"] == "cuda":
        assert config["hostRequirements"]["gpu"] == "optional"
    else:
        assert "gpu" not in config["hostRequirements"]
    # `--gpus all` in runArgs would stop the container from starting on a CPU-only host.
    assert not any("gpu" in str(arg) for arg in config.get("runArgs", []))
    assert config["hostRequirements"]["cpus"] >= 2


def test_image_matches_the_project(rendered: Rendered) -> None:
    root, _ = rendered
    config = config_of(root)
    python_version = (root / ".python-version").read_text().strip()
    assert config["build"]["args"]["PYTHON_VERSION"] == python_version
    assert (root / ".devcontainer" / config["build"]["dockerfile"]).read_bytes() == (
        DOCKERFILE.read_bytes()
    )
    user = re.search(r"^ARG DEV_USER=(\S+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert user and config["remoteUser"] == user[1]
    cache = next(m for m in config["mounts"] if m["target"].endswith("/.cache/uv"))
    assert (cache["type"], cache["target"]) == ("volume", f"/home/{user[1]}/.cache/uv")


def test_lifecycle_installs_from_the_lock_and_starts_the_stack(rendered: Rendered) -> None:
    root, answers = rendered
    config = config_of(root)
    post_create = config["postCreateCommand"]
    assert post_create.startswith("uv sync --locked")
    assert "pre-commit install" in post_create
    assert f"python -m {answers['package_name']}.device" in post_create
    assert config["postStartCommand"] == "uv run --locked --no-sync strata stack up"
    assert (root / "src" / answers["package_name"] / "device.py").is_file()


def test_forwarded_ports_are_the_stacks_and_labelled(rendered: Rendered) -> None:
    root, answers = rendered
    config = config_of(root)
    expected = forwarded_stack_ports() | ({JUPYTER_PORT} if answers["notebooks"] else set())
    assert sorted(config["forwardPorts"]) == sorted(expected)
    assert set(config["portsAttributes"]) == {str(port) for port in expected}
    for attributes in config["portsAttributes"].values():
        assert attributes["label"]


def test_copier_ports_are_the_kits_service_defaults() -> None:
    copier_yml = yaml.safe_load((KIT_ROOT / "copier.yml").read_text())
    forwarded = {d.name: d.default_port for d in SERVICES.values() if d.forwarded}
    assert copier_yml["stack_ports"]["default"] == forwarded
    assert copier_yml["jupyter_port"]["default"] == JUPYTER_PORT
    assert JUPYTER_PORT not in {d.default_port for d in SERVICES.values()}


def test_container_environment_keeps_telemetry_off(rendered: Rendered) -> None:
    root, _ = rendered
    env = config_of(root)["containerEnv"]
    assert {k: env[k] for k in TELEMETRY_OFF} == dict(TELEMETRY_OFF)
    assert env["STRATA_WORKSPACE"] == "${containerWorkspaceFolder}"


def test_vscode_uses_the_project_venv_ruff_jupyter_and_pytest(rendered: Rendered) -> None:
    root, _ = rendered
    vscode = config_of(root)["customizations"]["vscode"]
    assert {"ms-python.python", "ms-toolsai.jupyter", "charliermarsh.ruff"} <= set(
        vscode["extensions"]
    )
    settings = vscode["settings"]
    interpreter = settings["python.defaultInterpreterPath"]
    assert interpreter == "${containerWorkspaceFolder}/.venv/bin/python"
    assert settings["python.testing.pytestEnabled"] is True
    assert settings["python.testing.pytestArgs"] == ["tests"]
    assert settings["[python]"]["editor.defaultFormatter"] == "charliermarsh.ruff"


@pytest.fixture(scope="module")
def docker_stub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """No engine runs here: the CLI only needs a docker executable to exist."""
    stub = tmp_path_factory.mktemp("bin") / "docker"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    return stub


def test_dev_container_cli_reads_the_configuration(rendered: Rendered, docker_stub: Path) -> None:
    root, _ = rendered
    if not DEVCONTAINER_CLI.exists():
        pytest.fail("the dev container CLI is not installed: run `npm ci` in the kit")
    done = subprocess.run(
        [
            str(DEVCONTAINER_CLI),
            "read-configuration",
            "--workspace-folder",
            str(root),
            "--docker-path",
            str(docker_stub),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    parsed = json.loads(done.stdout)
    workspace = f"/workspaces/{root.name}"
    assert parsed["workspace"]["workspaceFolder"] == workspace
    expected = json.loads(
        json.dumps(config_of(root)).replace("${containerWorkspaceFolder}", workspace)
    )
    configuration = {k: v for k, v in parsed["configuration"].items() if k != "configFilePath"}
    assert configuration == expected
    for command in LIFECYCLE:
        assert configuration[command] == expected[command]
