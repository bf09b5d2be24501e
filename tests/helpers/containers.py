"""A Docker engine and offline base images for the container tests: the one shared helper.

These machines start without an engine and reach no container registry. :func:`engine`
uses the engine that answers, else installs Debian's ``docker.io`` and starts ``dockerd``
(as root) and stops it again at the end. :func:`offline_bases` builds what a registry would
have given: a Debian bookworm base made by ``debootstrap`` from the Debian mirror and
imported, and a uv image holding this machine's pinned ``uv`` binary. Everything created
is removed by ID afterwards. When no engine can be had, the test fails with the reason.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
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


def apt_install(*packages: str) -> None:
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


#: Shared by every test process (xdist workers): who uses the engine, and the dockerd the
#: tests started (None when it was running before them, so it is never stopped).
_ENGINE_STATE = Path(tempfile.gettempdir()) / "strata-test-engine.json"


@contextmanager
def _engine_lock() -> Iterator[dict[str, Any]]:
    with (_ENGINE_STATE.with_suffix(".lock")).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            state = json.loads(_ENGINE_STATE.read_text()) if _ENGINE_STATE.exists() else {}
        except ValueError:
            state = {}
        users = [pid for pid in state.get("users", []) if psutil.pid_exists(pid)]
        state["users"] = users
        yield state
        _ENGINE_STATE.write_text(json.dumps(state))


def _our_daemon(state: dict[str, Any]) -> psutil.Process | None:
    """The dockerd the tests started, if it is still that process (not a reused PID)."""
    recorded = state.get("daemon")
    if not recorded:
        return None
    try:
        daemon = psutil.Process(recorded["pid"])
        if daemon.name() == "dockerd" and daemon.create_time() == recorded["started"]:
            return daemon
    except (psutil.Error, KeyError, TypeError):
        pass
    return None


def _stop_daemon(daemon: psutil.Process) -> None:
    try:
        daemon.terminate()
        daemon.wait(timeout=30)
    except psutil.TimeoutExpired:
        daemon.kill()
    except psutil.NoSuchProcess:
        pass


def _note(log: Path, message: str) -> None:
    """Say in the engine's log which test process did what to the daemon, and when."""
    with log.open("a") as out:
        out.write(f"[strata-test {time.strftime('%H:%M:%S')} pid {os.getpid()}] {message}\n")


@contextmanager
def engine(log: Path) -> Iterator[None]:
    """A Docker engine that answers for the block. One started here is stopped when the
    last test process using it is done (container modules may run side by side); every
    start and stop is noted in ``log`` with the test process that did it."""
    with _engine_lock() as state:
        if _our_daemon(state) is None:
            state.pop("daemon", None)  # recorded by a run that is gone: never stop it
        if not _answers():
            if shutil.which("dockerd") is None:
                apt_install("docker.io")
            with log.open("ab") as out:
                daemon = subprocess.Popen(
                    ["dockerd"], stdout=out, stderr=out, start_new_session=True
                )
            deadline = time.monotonic() + 60
            while not _answers():
                if daemon.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"dockerd did not start; its log: {log}")
                time.sleep(0.5)
            started = psutil.Process(daemon.pid).create_time()
            state["daemon"] = {"pid": daemon.pid, "started": started}
            _note(log, f"started dockerd {daemon.pid}")
        state["users"].append(os.getpid())
        _note(log, f"uses the engine with {state['users']}")
    try:
        yield
    finally:
        with _engine_lock() as state:
            state["users"] = [pid for pid in state["users"] if pid != os.getpid()]
            ours = _our_daemon(state)
            if state["users"]:
                _note(log, f"done; {state['users']} still use the engine")
            elif ours is not None:
                _note(log, f"done, the last user: stopping dockerd {ours.pid}")
                _stop_daemon(ours)
                state.pop("daemon")


@dataclass
class Bases:
    """Stand-ins for the images a registry would give, by reference and ID."""

    debian: str
    uv: str
    ids: list[str] = field(default_factory=list)


def debian_standin(workdir: Path, tag: str, packages: str = STANDIN_PACKAGES) -> str:
    """A Debian bookworm image with ``packages`` (comma-separated), made offline; its ID."""
    if shutil.which("debootstrap") is None:
        apt_install("debootstrap")
    rootfs = workdir / f"rootfs-{uuid.uuid4().hex[:8]}"
    done = subprocess.run(
        ["debootstrap", "--variant=minbase", f"--include={packages}", "bookworm",
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
        bases.ids.append(debian_standin(workdir, bases.debian))
        bases.ids.append(_uv_standin(workdir, bases.uv))
        yield bases
    finally:
        remove_images(bases.ids)


def remove_images(ids: list[str]) -> None:
    """Remove images by ID, after the untagged images built on them (the classic builder
    keeps each build step as one, whose parent chain leads back to the base)."""
    ours = set(ids)
    for image in docker("images", "--quiet", "--no-trunc", "--filter", "dangling=true",
                        check=False).split():  # fmt: skip
        current, steps = image, 0
        while current and current not in ours and steps < 200:
            current = docker("image", "inspect", "--format", "{{.Parent}}", current, check=False)
            steps += 1
        if current in ours:
            docker("rmi", "--force", image, check=False)
    for image in reversed(ids):
        docker("rmi", "--force", image, check=False)
