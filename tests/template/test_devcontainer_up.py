"""The CPU dev container, for real: `devcontainer up` on a Docker engine, the stack inside it.

Slow: a CPU-flavour project is generated and cloned as a developer's checkout (owned by
the container user); `devcontainer up` builds the image from the project's recipe on
offline stand-in bases (no registry here), runs `postCreateCommand` (the lock installed,
the hooks) and `postStartCommand` (`strata stack up` inside the container). Each stack
port is then forwarded to the host as an editor would forward it, and every service's
health endpoint must answer there. The container, its image and its cache volume are
removed by ID afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import tomllib
import uuid
from pathlib import Path
from typing import Any

import httpx
import json5
import pytest

from ..helpers.containers import docker, engine, offline_bases
from ..helpers.templates import KIT_ROOT, MATRIX, generate, run, user_env

pytestmark = pytest.mark.e2e

DEVCONTAINER_CLI = KIT_ROOT / "node_modules" / ".bin" / "devcontainer"
#: The container user's uid (the recipe's USER_UID): a developer's checkout belongs to them.
CONTAINER_UID = 1000
#: Forwarded port P is relayed from container port P + OFFSET, published on 127.0.0.1.
OFFSET = 10000
HEALTH = {
    9000: "/",
    5000: "/health",
    4200: "/api/health",
    8080: "/v2/health/live",
    8090: "/healthz",
}

#: What an editor's port forwarding does, inside the container: LISTEN:TARGET pairs, each
#: relaying connections from 0.0.0.0:LISTEN to 127.0.0.1:TARGET (where the stack listens).
FORWARDER = """
import asyncio, sys

async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()

def relay(target):
    async def handle(reader, writer):
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
    return handle

async def main():
    pairs = [arg.split(":") for arg in sys.argv[1:]]
    servers = [await asyncio.start_server(relay(int(t)), "0.0.0.0", int(l)) for l, t in pairs]
    await asyncio.gather(*(server.serve_forever() for server in servers))

asyncio.run(main())
"""


def pinned_uv() -> str:
    table = tomllib.loads((KIT_ROOT / "pyproject.toml").read_text())["tool"]["uv"]
    return str(table["required-version"]).removeprefix("==")


def container_config(config: dict[str, Any], bases: Any, volume: str) -> dict[str, Any]:
    """The project's configuration with what this machine needs, and nothing else changed:
    stand-in bases (no registry), the stack's ports published for the relay, a cache volume
    of this test's own, and the host's CA bundle where a TLS-inspecting proxy needs it."""
    build = dict(config["build"])  # read from .devcontainer/strata-test/: one folder down
    build["dockerfile"] = f"../{build['dockerfile']}"
    build["context"] = f"{build['context']}/.." if build["context"] != "." else ".."
    build["args"] = {**build["args"], "UV_IMAGE": bases.uv, "CPU_BASE": bases.debian,
                     "CUDA_BASE": bases.debian}  # fmt: skip
    publish = [f"--publish=127.0.0.1::{port + OFFSET}" for port in HEALTH]
    mounts = [{**m, "source": volume} if m.get("type") == "volume" else m for m in config["mounts"]]
    changed = {**config, "build": build, "runArgs": [*config.get("runArgs", []), *publish]}
    changed["mounts"] = mounts
    bundle = os.environ.get("SSL_CERT_FILE")
    if bundle and Path(bundle).is_file():
        target = "/etc/ssl/certs/strata-host-ca-bundle.pem"
        changed["mounts"] = [*mounts, {"source": bundle, "target": target, "type": "bind"}]
        changed["containerEnv"] = {**config["containerEnv"], "SSL_CERT_FILE": target}
    return changed


def wait_for_health(url: str, limit_s: float = 90.0) -> int:
    deadline = time.monotonic() + limit_s
    status = 0
    while time.monotonic() < deadline:
        try:
            status = httpx.get(url, timeout=5).status_code
        except httpx.HTTPError:
            status = 0
        if 0 < status < 500:
            return status
        time.sleep(0.5)
    return status


def dev_container_images() -> list[str]:
    """IDs of the images the dev container CLI has built (it names them vsc-…)."""
    return docker("images", "--quiet", "--no-trunc", "--filter", "reference=vsc-*").split()


def test_the_cpu_dev_container_starts_and_its_stack_answers_on_forwarded_ports(
    tmp_path: Path,
) -> None:
    answers = MATRIX["proprietary-long-name"]
    assert answers["devcontainer"] == "cpu" and answers.get("python_version", "3.11") == "3.11"
    assert DEVCONTAINER_CLI.exists(), "the dev container CLI is not installed: run `npm ci`"
    env = user_env()
    root = generate(tmp_path, answers, env)
    checkout = tmp_path / "home" / "dev" / root.name
    checkout.parent.mkdir(parents=True)
    run(["git", "clone", "--quiet", str(root), str(checkout)], cwd=tmp_path, env=env)
    os.chown(checkout.parent, CONTAINER_UID, CONTAINER_UID)
    run(["chown", "-R", f"{CONTAINER_UID}:{CONTAINER_UID}", str(checkout)], cwd=tmp_path)
    config = json5.loads((checkout / ".devcontainer" / "devcontainer.json").read_text())
    assert sorted(config["forwardPorts"]) == sorted(HEALTH)

    run_id = uuid.uuid4().hex[:8]
    volume = f"strata-uv-cache-test-{run_id}"
    with engine(tmp_path / "dockerd.log"), offline_bases(tmp_path, pinned_uv()) as bases:
        # A second configuration, as the spec allows (.devcontainer/NAME/devcontainer.json).
        test_file = checkout / ".devcontainer" / "strata-test" / "devcontainer.json"
        test_file.parent.mkdir()
        test_file.write_text(json.dumps(container_config(config, bases, volume), indent=2))
        container = ""
        before = set(dev_container_images())
        try:
            up = subprocess.run(
                [str(DEVCONTAINER_CLI), "up", "--workspace-folder", str(checkout),
                 "--config", str(test_file), "--id-label", f"strata-test={run_id}"],
                capture_output=True, text=True, timeout=1800, check=False,
            )  # fmt: skip
            result = json.loads(up.stdout.strip().splitlines()[-1]) if up.stdout.strip() else {}
            container = str(result.get("containerId", ""))
            assert result.get("outcome") == "success", up.stdout[-6000:] + up.stderr[-6000:]
            log = up.stdout + up.stderr
            assert "runs on the CPU" in log, log[-4000:]  # postCreateCommand's device check
            assert (checkout / ".venv" / "bin" / "python").exists()  # the lock, installed
            assert (checkout / ".git" / "hooks" / "pre-commit").is_file()  # the hooks
            assert (checkout / ".env").is_file()  # postStartCommand: `strata stack up`

            relays = [f"{port + OFFSET}:{port}" for port in HEALTH]
            docker("exec", "--detach", container, "python3", "-c", FORWARDER, *relays)
            for port, path in HEALTH.items():
                published = docker("port", container, f"{port + OFFSET}/tcp").splitlines()[0]
                assert published.startswith("127.0.0.1:"), published
                status = wait_for_health(f"http://{published}{path}")
                assert 0 < status < 500, f"port {port} ({path}) answered {status} from the host"
        finally:
            if container:
                image = docker("inspect", "--format", "{{.Image}}", container, check=False)
                docker("rm", "--force", container, check=False)
                if image:
                    docker("rmi", "--force", image, check=False)
            # The CLI's own builds (vsc-<folder>-<hash>, and its -uid variant): new ones only.
            for built in sorted(set(dev_container_images()) - before):
                docker("rmi", "--force", built, check=False)
            docker("volume", "rm", "--force", volume, check=False)
