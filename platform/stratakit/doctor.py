"""``strata doctor``: what this machine offers the kit, and what is missing.

Each check returns a :class:`~stratakit.checks.CheckResult`; only the CLI prints them. A
``fail`` means the kit cannot work until the ``fix`` is applied; ``warn`` means a feature
will be unavailable.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from stratakit.checks import CheckResult, Severity
from stratakit.errors import StrataError
from stratakit.project import Project
from stratakit.stack.context import load_context
from stratakit.stack.health import is_healthy
from stratakit.stack.ports import is_port_free
from stratakit.stack.services import SERVICES, build_specs
from stratakit.stack.supervisor import SupervisorClient

MIN_PYTHON = (3, 11)
DISK_PROBE_BYTES = 64 * 1024 * 1024
CDI_DIRS = (Path("/etc/cdi"), Path("/var/run/cdi"))


def _version_of(command: list[str]) -> str | None:
    if shutil.which(command[0]) is None:
        return None
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    output = (result.stdout or result.stderr).strip().splitlines()
    return output[0] if result.returncode == 0 and output else None


def check_python() -> CheckResult:
    """Python 3.11 or newer."""
    version = platform.python_version()
    if sys.version_info[:2] >= MIN_PYTHON:
        return CheckResult("python", "ok", f"Python {version} ({sys.executable})")
    return CheckResult("python", "fail", f"Python {version}", "install Python 3.11 or newer")


def check_uv() -> CheckResult:
    """uv, which installs projects from their lock files."""
    version = _version_of(["uv", "--version"])
    if version:
        return CheckResult("uv", "ok", version)
    return CheckResult("uv", "fail", "uv not found on PATH", "python3 -m pip install uv")


def check_git() -> CheckResult:
    """git, which DVC and lineage tags rely on."""
    version = _version_of(["git", "--version"])
    if version:
        return CheckResult("git", "ok", version)
    return CheckResult(
        "git", "fail", "git not found on PATH", "install git (e.g. apt-get install git)"
    )


def check_docker() -> CheckResult:
    """Whether a Docker engine answers (optional: the stack runs without one)."""
    if shutil.which("docker") is None:
        return CheckResult("docker", "info", "no docker client; the stack runs as local processes")
    try:
        result = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        result = None
    if result is not None and result.returncode == 0 and result.stdout.strip():
        return CheckResult("docker", "ok", f"engine {result.stdout.strip()} answers")
    return CheckResult(
        "docker",
        "info",
        "docker client only, no engine answers; the stack runs as local processes",
    )


def check_compose(docker: CheckResult) -> CheckResult:
    """The Compose v2 CLI, and whether the compose profile can run here."""
    from stratakit.errors import ContainerEngineError
    from stratakit.stack.compose.engine import compose_command

    try:
        command = compose_command()
    except ContainerEngineError as exc:
        return CheckResult(
            "compose", "info", "no Docker Compose v2: the compose profile cannot run", str(exc)
        )
    version = _version_of([*command, "version", "--short"]) or "?"
    if docker.severity != "ok":
        return CheckResult(
            "compose",
            "info",
            f"Compose {version}, but no engine answers: the compose profile cannot run",
            "start a Docker engine, then `strata stack up --profile compose`",
        )
    return CheckResult(
        "compose", "ok", f"Compose {version}: `strata stack up --profile compose` can run"
    )


def check_gpus() -> CheckResult:
    """NVIDIA GPUs (nvidia-smi) and CDI specs for container runtimes."""
    cdi = sorted(str(p) for d in CDI_DIRS if d.is_dir() for p in d.glob("*.*"))
    cdi_note = f"; CDI specs: {', '.join(cdi)}" if cdi else "; no CDI specs"
    if shutil.which("nvidia-smi") is None:
        return CheckResult("gpu", "info", f"no nvidia-smi: training runs on the CPU{cdi_note}")
    try:
        result = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return CheckResult("gpu", "warn", "nvidia-smi did not answer", "check the NVIDIA driver")
    gpus = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    if result.returncode != 0 or not gpus:
        return CheckResult(
            "gpu", "warn", f"nvidia-smi found no usable GPU{cdi_note}", "check the NVIDIA driver"
        )
    return CheckResult("gpu", "ok", f"{len(gpus)} GPU(s): {'; '.join(gpus)}{cdi_note}")


def check_cpu_memory() -> CheckResult:
    """Cores and memory (the stack idles under 1 GB)."""
    cores = os.cpu_count() or 1
    memory = psutil.virtual_memory()
    detail = (
        f"{cores} cores, {memory.total / 2**30:.1f} GiB memory "
        f"({memory.available / 2**30:.1f} GiB available)"
    )
    if memory.available < 2 * 2**30:
        return CheckResult("cpu/memory", "warn", detail, "free memory: the stack needs about 1 GiB")
    return CheckResult("cpu/memory", "ok", detail)


def check_disk(folder: Path) -> CheckResult:
    """Free space and a quick sequential write/read bandwidth figure."""
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    block = os.urandom(1024 * 1024)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".strata-disk-probe-") as handle:
        start = time.perf_counter()
        for _ in range(DISK_PROBE_BYTES // len(block)):
            handle.write(block)
        handle.flush()
        os.fsync(handle.fileno())
        write_s = time.perf_counter() - start
        handle.seek(0)
        start = time.perf_counter()
        while handle.read(4 * 1024 * 1024):
            pass
        read_s = time.perf_counter() - start
    mib = DISK_PROBE_BYTES / 2**20
    detail = (
        f"{free / 2**30:.0f} GiB free at {folder}; write {mib / write_s:.0f} MiB/s (fsync), "
        f"read {mib / max(read_s, 1e-6):.0f} MiB/s (page cache)"
    )
    if free < 2 * 2**30:
        return CheckResult("disk", "warn", detail, "free disk space: data and models need room")
    return CheckResult("disk", "ok", detail)


def check_stack(project: Project) -> list[CheckResult]:
    """Ports of the project's stack and, when it is up, each service's health."""
    try:
        ctx = load_context(project)
    except StrataError:
        preferred = ", ".join(f"{n} {d.default_port}" for n, d in SERVICES.items())
        return [CheckResult("stack", "info", f"not set up yet (default ports: {preferred})")]
    running = SupervisorClient(project).is_running()
    checks: list[CheckResult] = []
    for spec in build_specs(ctx):
        if running:
            healthy = is_healthy(spec.health_url)
            severity: Severity = "ok" if healthy else "fail"
            fix = "" if healthy else f"see `strata stack logs {spec.name}`"
            state = "healthy" if healthy else "not answering"
            checks.append(CheckResult(f"stack: {spec.name}", severity, f"{spec.url} {state}", fix))
        elif is_port_free(spec.port):
            checks.append(
                CheckResult(f"stack: {spec.name}", "info", f"down; port {spec.port} free")
            )
        else:
            checks.append(
                CheckResult(
                    f"stack: {spec.name}",
                    "info",
                    f"down; port {spec.port} is taken by another program",
                    "`strata stack up` will choose another port and remember it",
                )
            )
    return checks


def run_checks(project: Project | None) -> list[CheckResult]:
    """Every check, in report order."""
    probes: list[Callable[[], CheckResult]] = [
        check_python,
        check_uv,
        check_git,
        check_docker,
        check_gpus,
        check_cpu_memory,
    ]
    results = [probe() for probe in probes]
    docker = next(result for result in results if result.name == "docker")
    results.insert(results.index(docker) + 1, check_compose(docker))
    results.append(check_disk(project.state_dir if project else Path(tempfile.gettempdir())))
    if project is not None:
        results.extend(check_stack(project))
    else:
        results.append(CheckResult("project", "info", "not inside a project: stack checks skipped"))
    return results
