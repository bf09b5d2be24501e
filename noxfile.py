"""The kit's checks: `uv run nox` runs lint, typecheck and tests; `nox -s unit` is the quick
loop (no servers); `nox -s bench` measures."""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True

PACKAGES = ["platform", "tests", "noxfile.py", "benchmarks"]


def sync(session: nox.Session, *groups: str, only_groups: bool = False) -> None:
    """Install the locked dependencies (and the kit itself) into the session's virtualenv."""
    flag = "--only-group" if only_groups else "--group"
    args = ["uv", "sync", "--locked", "--no-default-groups"]
    for group in groups:
        args += [flag, group]
    session.run_install(
        *args,
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location, "UV_COMPILE_BYTECODE": "1"},
    )


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    sync(session, "lint", only_groups=True)
    session.run("ruff", "check", *PACKAGES)
    session.run("ruff", "format", "--check", *PACKAGES)


@nox.session
def typecheck(session: nox.Session) -> None:
    """Mypy in strict mode over the package."""
    sync(session, "typecheck")
    session.run("mypy")


@nox.session(default=False)
def unit(session: nox.Session) -> None:
    """Unit tests of the package: no servers, no generated projects, under two minutes."""
    sync(session, "test")
    session.run("pytest", "tests/unit", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite (unit, template, end-to-end with real servers), three modules at a
    time; prints its wall time, the time per module and the ten slowest tests."""
    sync(session, "test")
    # Most end-to-end time is spent waiting on servers: three workers keep two cores busy.
    # A module stays on one worker (its fixtures: a stack, a generated project).
    args = session.posargs or ["--numprocesses=3", "--dist=loadfile", "--durations=10"]
    session.run("pytest", *args)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Stack start, recovery, memory; first model and command latency; `strata new` to green
    tests; gateway vs mlflow serve; online features; data push to the retrained version served;
    a drift check over 100k logged rows and the prediction log's cost; the portal's first
    paint with 20 models in Chromium; the compose profile beside the embedded one (when a
    Docker engine answers)."""
    sync(session, "test")
    rounds = os.environ.get("STRATA_BENCH_ROUNDS", "5")
    session.run("python", "benchmarks/stack_start.py", "--rounds", rounds, *session.posargs)
    session.run("python", "benchmarks/first_model.py", "--rounds", rounds)
    session.run("python", "benchmarks/template_new.py", "--rounds", str(min(int(rounds), 3)))
    session.run("python", "benchmarks/serving.py", "--rounds", str(min(int(rounds), 3)))
    session.run("python", "benchmarks/online_features.py", "--rounds", str(min(int(rounds), 3)))
    session.run("python", "benchmarks/push_to_serve.py")
    session.run("python", "benchmarks/monitoring.py", "--rounds", str(min(int(rounds), 3)))
    session.run("python", "benchmarks/portal.py", "--rounds", rounds)
    if _docker_answers():
        session.run("python", "benchmarks/compose_stack.py", "--rounds", str(min(int(rounds), 3)))
    else:
        session.warn("compose profile not measured: no Docker engine answers (start dockerd)")


def _docker_answers() -> bool:
    import shutil
    import subprocess

    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0
