"""Building the compose profile's images from the kit's checkout, with no registry needed.

Two steps, both from ``infra/images/``: the wheelhouse (every wheel ``uv.lock`` pins, for the
image's Python, with hashes, plus the kit's own wheel; ``build-wheelhouse.sh``), then
``compose build`` (BuildKit), which installs from that wheelhouse only. ``STRATA_IMAGE_BASE``
in the environment replaces the pinned Debian base (a mirror's copy, or an offline stand-in).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable

from stratakit.contract import process_environment
from stratakit.errors import ContainerEngineError
from stratakit.stack.compose.engine import Compose
from stratakit.stack.compose.environment import infra_dir

#: Called with a short description of each step as it starts.
StepCallback = Callable[[str], None]


def build_images(compose: Compose, on_step: StepCallback | None = None) -> None:
    """Build every image of ``compose.yaml`` from this kit checkout's lock."""
    infra = infra_dir()
    kit = infra.parent
    if not (kit / "uv.lock").is_file():
        raise ContainerEngineError(
            "The compose profile's images are built from a StrataKit checkout (its uv.lock); "
            "run `strata stack up --profile compose --build` from one, or name published "
            "images in [tool.strata.stack.images]."
        )
    uv = shutil.which("uv")
    if uv is None:
        raise ContainerEngineError("Building the images needs uv on PATH (`pip install uv`).")
    if on_step:
        on_step("building the wheelhouse: the lock's wheels for the image's Python")
    done = subprocess.run(
        ["bash", str(infra / "images" / "build-wheelhouse.sh"), str(kit)],
        env={**process_environment(), "UV": uv},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise ContainerEngineError(f"Building the wheelhouse failed:\n{tail}")
    if on_step:
        on_step("building the images: compose build (platform, object store, Postgres, Redis)")
    compose.run("build", timeout=3600)
