"""The project walk-through of ``strata demo``: generate a project, run its pipeline, serve it.

Each step is the command a user would type in the generated project (its own ``uv run``),
so the demo exercises exactly what the README promises.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from stratakit.contract import process_environment
from stratakit.errors import WalkthroughError
from stratakit.project import Project
from stratakit.project_template import new_project
from stratakit.stack.context import project_contract

DEMO_PROJECT_NAME = "Churn Forecast"
MODEL_NAME = "churn_forecast"

# Printed by the generated project's own Python: the version the pipeline registered.
_READ_VERSION = """
import json, sys
from mlflow import MlflowClient
v = MlflowClient().get_model_version_by_alias(sys.argv[1], "candidate")
json.dump({"version": v.version, "tags": v.tags, "run_id": v.run_id}, sys.stdout)
"""


@dataclass(frozen=True)
class ProjectStep:
    """One command of the walk-through and how long it took."""

    title: str
    seconds: float


@dataclass(frozen=True)
class RegisteredModel:
    """The model version the pipeline registered, with its lineage tags."""

    name: str
    version: str
    run_id: str
    tags: dict[str, str]


def _user_env() -> dict[str, str]:
    """The environment of a user's shell in the project.

    Not the environment the kit's caller selected: its virtualenv, or a nox session's
    ``UV_PROJECT_ENVIRONMENT`` and ``UV_PYTHON``.
    """
    env = process_environment()
    for key in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "UV_PYTHON"):
        env.pop(key, None)
    return env


def _run(root: Path, args: Sequence[str], title: str) -> str:
    uv = shutil.which("uv")
    if uv is None:
        raise WalkthroughError("uv is not on PATH; install it with `python3 -m pip install uv`.")
    done = subprocess.run(
        [uv, "run", "--locked", *args],
        cwd=root,
        env=_user_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise WalkthroughError(
            f"{title} failed in {root} (`uv run {' '.join(args)}`); fix it and rerun:\n{tail}"
        )
    return done.stdout


def _ask_gateway(root: Path, version: str, limit_s: float = 120.0) -> str:
    """Wait until the gateway serves ``version``, then score one customer by id alone.

    The gateway fetches the customer's features from the online store (filled by the
    pipeline's materialize step), so this also proves the feature store end to end.
    """
    import httpx
    import pandas as pd

    url = project_contract(Project(root=root))["STRATA_SERVING_URL"]
    deadline = time.monotonic() + limit_s
    with httpx.Client(base_url=url, timeout=30) as http:
        while True:
            meta = http.get(f"/v2/models/{MODEL_NAME}")
            if meta.status_code == 200 and meta.json()["versions"] == [version]:
                break
            if time.monotonic() > deadline:
                raise WalkthroughError(
                    f"the gateway did not serve {MODEL_NAME} v{version} within {limit_s:.0f}s; "
                    f"see `uv run strata stack logs gateway` in {root}"
                )
            time.sleep(0.5)
        table = pd.read_parquet(root / "data" / "features" / "customer_features.parquet")
        customer = str(table["customer_id"].iloc[0])
        answer = http.post(
            f"/models/{MODEL_NAME}/invocations",
            json={"dataframe_records": [{"customer_id": customer}]},
        )
    if answer.status_code != 200:
        raise WalkthroughError(f"the gateway answered {answer.status_code}: {answer.text[:300]}")
    churn = answer.json()["predictions"][0][-1]
    return (
        f"POST $STRATA_SERVING_URL/models/{MODEL_NAME}/invocations with customer_id "
        f"{customer} only (features from the online store) → P(churn) = {churn:.2f} "
        f"(version {answer.headers.get('x-model-version')})"
    )


def run_project_demo(
    dest: Path, on_step: Callable[[ProjectStep], None], stop_after: bool = False
) -> RegisteredModel:
    """Generate (once) a project at ``dest``, start its stack, run and push its pipeline."""
    steps: list[tuple[str, Callable[[], object]]] = []
    if not (dest / ".copier-answers.yml").is_file():
        steps.append(
            (
                f"strata new {dest} (locked environment, raw data tracked by DVC, git commit)",
                lambda: new_project(dest, {"project_name": DEMO_PROJECT_NAME}, defaults=True,
                                    quiet=True),
            )
        )  # fmt: skip
    steps += [
        ("uv run strata stack up (the project's own stack)",
         lambda: _run(dest, ["strata", "stack", "up"], "stack up")),
        ("uv run nox -s pipeline (dvc repro: prepare → featurize → train → evaluate; materialize)",
         lambda: _run(dest, ["nox", "-s", "pipeline"], "the pipeline")),
        ("dvc push (data, features and model to the project's bucket)",
         lambda: _run(dest, ["--env-file", ".env", "dvc", "push"], "dvc push")),
    ]  # fmt: skip
    for title, action in steps:
        started = time.perf_counter()
        action()
        on_step(ProjectStep(title=title, seconds=time.perf_counter() - started))
    try:
        raw = _run(
            dest, ["--env-file", ".env", "python", "-c", _READ_VERSION, MODEL_NAME], "reading"
        )
        found = json.loads(raw.strip().splitlines()[-1])
        version = str(found["version"])
        model = ["strata", "model"]
        for title, args in (
            (f"uv run strata model verify {MODEL_NAME}/{version} (artifact, commit, data)",
             [*model, "verify", f"{MODEL_NAME}/{version}"]),
            (f"uv run strata model promote {MODEL_NAME} {version} (through the quality gate)",
             [*model, "promote", MODEL_NAME, version, "-m", "strata demo: passed the gate"]),
        ):  # fmt: skip
            started = time.perf_counter()
            _run(dest, args, title.split(" (")[0])
            on_step(ProjectStep(title=title, seconds=time.perf_counter() - started))
        started = time.perf_counter()
        answer = _ask_gateway(dest, version)
        on_step(ProjectStep(title=answer, seconds=time.perf_counter() - started))
    finally:
        if stop_after:
            _run(dest, ["strata", "stack", "down"], "stack down")
    return RegisteredModel(
        name=MODEL_NAME, version=version, run_id=found["run_id"], tags=found["tags"]
    )
