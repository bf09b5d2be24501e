"""A Docker engine and offline base images for the container tests: the one shared helper.

These machines start without an engine and reach no container registry. :func:`engine`
uses the engine that answers, else installs Debian's ``docker.io`` and starts ``dockerd``
(as root) and stops it again at the end. :func:`offline_bases` builds what a registry would
have given: a Debian bookworm base made by ``debootstrap`` from the Debian mirror and
imported, and a uv image holding this machine's pinned ``uv`` binary. Everything created
is removed by ID afterwards. When no engine can be had, the test fails with the reason.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

#: Debian packages the dev container recipe installs, so the stand-in has them already.
STANDIN_PACKAGES = (
    "bash-completion,ca-certificates,curl,git,git-lfs,less,openssh-client,procps,sudo,"
    "python3,python3-venv"
)
DEBIAN_MIRROR = "http://deb.debian.org/debian"


def docker(*args: str, timeout: float = 600, check: bool = True) -> str:
    """A docker command; its standard output (a failure fails the test with its output)."""
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        pytest.fail(f"docker {' '.join(args)} exited {done.returncode}:\n{done.stderr[-4000:]}")
    return done.stdout.strip()


def _answers() -> bool:
    if shutil.which("docker") is None:
        return False
    done = subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False)
    return done.returncode == 0


def _apt_install(*packages: str) -> None:
    if os.geteuid() != 0:
        pytest.fail(f"{', '.join(packages)} missing, and installing them needs root")
    apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], env=apt_env, capture_output=True, timeout=600)
    done = subprocess.run(
        ["apt-get", "install", "-y", "-q", *packages],
        env=apt_env,
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"apt-get install {' '.join(packages)} failed:\n{done.stderr[-3000:]}")


@contextmanager
def engine(log: Path) -> Iterator[None]:
    """A Docker engine that answers for the block; one started here is stopped after it."""
    if _answers():
        yield
        return
    if shutil.which("dockerd") is None:
        _apt_install("docker.io")
    with log.open("ab") as out:
        daemon = subprocess.Popen(["dockerd"], stdout=out, stderr=out, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not _answers():
            if daemon.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"dockerd did not start; its log: {log}")
            time.sleep(0.5)
        yield
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait(timeout=10)


@dataclass
class Bases:
    """Stand-ins for the images a registry would give, by reference and ID."""

    debian: str
    uv: str
    ids: list[str] = field(default_factory=list)


def _debian_standin(workdir: Path, tag: str) -> str:
    if shutil.which("debootstrap") is None:
        _apt_install("debootstrap")
    rootfs = workdir / "rootfs"
    done = subprocess.run(
        ["debootstrap", "--variant=minbase", f"--include={STANDIN_PACKAGES}", "bookworm",
         str(rootfs), DEBIAN_MIRROR],
        capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"debootstrap failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    pipe = f"tar -C {shlex.quote(str(rootfs))} -c . | docker import - {shlex.quote(tag)}"
    imported = subprocess.run(
        ["sh", "-c", pipe], capture_output=True, text=True, timeout=600, check=False
    )
    shutil.rmtree(rootfs, ignore_errors=True)
    if imported.returncode != 0:
        pytest.fail(f"docker import failed:\n{imported.stderr[-3000:]}")
    return imported.stdout.strip()


def _uv_standin(workdir: Path, tag: str) -> str:
    context = workdir / "uv-image"
    context.mkdir()
    for name in ("uv", "uvx"):
        found = shutil.which(name)
        if found is None:
            pytest.fail(f"{name} is not on PATH: source scripts/ensure-uv.sh")
        shutil.copy(os.path.realpath(found), context / name)
    (context / "Dockerfile").write_text("FROM scratch\nCOPY uv uvx /\n")
    docker("build", "--quiet", "--tag", tag, str(context))
    return docker("image", "inspect", "--format", "{{.Id}}", tag)


@contextmanager
def offline_bases(workdir: Path, uv_version: str) -> Iterator[Bases]:
    """The stand-in base images for the block; removed by ID after it."""
    run = uuid.uuid4().hex[:8]
    bases = Bases(
        debian=f"strata-test/debian-bookworm:{run}", uv=f"strata-test/uv:{uv_version}-{run}"
    )
    try:
        bases.ids.append(_debian_standin(workdir, bases.debian))
        bases.ids.append(_uv_standin(workdir, bases.uv))
        yield bases
    finally:
        for image in reversed(bases.ids):
            docker("rmi", "--force", image, check=False)
