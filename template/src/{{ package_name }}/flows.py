"""Scheduled pipelines as Prefect flows: keep the online store fresh, retrain on new data.

``pyproject.toml`` (``[tool.strata.flows]``) deploys them to the stack's work pool with
``uv run strata flows deploy``: ``materialize`` runs every hour on the high-priority queue,
``retrain`` runs whenever new data is pushed (``uv run strata data push``), one at a time.
Each step is a task with bounded retries; the stages run through DVC, so ``dvc.lock`` and
the model's lineage stay exact, and the promotion goes through the project's quality gate.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prefect import flow, get_run_logger, task

from . import pipeline
from .settings import load_settings

#: The stages ``retrain`` runs, in order (``dvc.yaml``); DVC skips those whose inputs
#: did not change.
STAGES = ("prepare", "featurize", "train", "evaluate")


def _run(*command: str) -> str:
    """Run a project command with this interpreter's tools first on ``PATH``."""
    tools = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": os.pathsep.join([tools, os.environ.get("PATH", "")])}
    done = subprocess.run(
        command, cwd=load_settings().root, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        output = f"{done.stdout[-2000:]}{done.stderr[-2000:]}"
        raise RuntimeError(f"{' '.join(command[1:4])} failed:\n{output}")
    return done.stdout


@task(retries=2, retry_delay_seconds=5)
def pull_data() -> str:
    """The pushed raw data from the bucket (a no-op where it was pushed from)."""
    _run(sys.executable, "-m", "dvc", "pull", "--quiet", "data/raw/customers.csv.dvc")
    return "raw data pulled"


@task(retries=2, retry_delay_seconds=5)
def stage(name: str) -> str:
    """One DVC stage; a transient failure (object store, tracking server) is retried."""
    _run(sys.executable, "-m", "dvc", "repro", "--single-item", name)
    return f"stage {name} done"


@task(retries=2, retry_delay_seconds=5)
def refresh_online_store() -> str:
    """The whole feature table again: retraining data may rewrite past months."""
    return pipeline.run_materialize_all(load_settings())


@task
def promote(alias: str) -> str:
    """Promote the version ``evaluate`` registered; the quality gate may refuse it."""
    from mlflow import MlflowClient

    settings = load_settings()
    client = MlflowClient(settings.require_tracking_uri())
    version = client.get_model_version_by_alias(settings.model_name, "candidate").version
    command = (
        sys.executable, "-m", "stratakit.cli", "model", "promote", settings.model_name,
        str(version), "--to", alias, "-m", "retrain flow: new data was pushed",
    )  # fmt: skip
    try:
        _run(*command)
    except RuntimeError as exc:
        if "fails the quality gate" not in str(exc):
            raise
        get_run_logger().warning("version %s refused by the quality gate", version)
        return f"version {version} refused by the quality gate; '{alias}' unchanged"
    return f"version {version} promoted to '{alias}'"


@task(retries=2, retry_delay_seconds=5)
def materialize_new_rows() -> str:
    """Feature values newer than the last run, to the online store."""
    return pipeline.run_materialize(load_settings())


@flow(name="materialize", log_prints=True)
def materialize() -> str:
    """Keep the online store fresh (on a schedule)."""
    return materialize_new_rows()


@flow(name="retrain", log_prints=True)
def retrain(alias: str = "production") -> str:
    """pull → prepare → featurize → refresh online store → train → evaluate → promote."""
    pull_data()
    for name in STAGES[:2]:
        stage(name)
    refresh_online_store()
    for name in STAGES[2:]:
        stage(name)
    return promote(alias)
