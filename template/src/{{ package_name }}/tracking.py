"""Experiment tracking backends: MLflow (tracking server + registry) and Weights & Biases.

``params.yaml`` picks the backends (``tracking: [mlflow, wandb]``). Each backend is a small
class with the same four methods, so stages do not care which ones are active. Imports are
lazy: a project that tracks only with MLflow does not install W&B, and the other way round.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from .lineage import tree_sha256
from .settings import Settings


class Tracker(Protocol):
    """What a stage can do with a tracking backend."""

    name: str

    def log_params(self, params: Mapping[str, Any]) -> None: ...
    def log_metrics(self, metrics: Mapping[str, float]) -> None: ...
    def record(self) -> dict[str, str]: ...
    def finish(self) -> None: ...


class MlflowTracker:
    """One MLflow run on the stack's tracking server."""

    name = "mlflow"

    def __init__(self, settings: Settings, run_name: str, run_id: str | None = None) -> None:
        import mlflow

        mlflow.set_tracking_uri(settings.require_tracking_uri())
        if run_id is None:
            mlflow.set_experiment(settings.model_name)
            self._run = mlflow.start_run(run_name=run_name)
        else:
            self._run = mlflow.start_run(run_id=run_id)
        self.run_id: str = self._run.info.run_id
        self.model_uri = ""
        self.artifact_sha256 = ""

    def log_params(self, params: Mapping[str, Any]) -> None:
        import mlflow

        mlflow.log_params(dict(params))

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        import mlflow

        mlflow.log_metrics(dict(metrics))

    def log_model(self, model: Any, example: pd.DataFrame) -> None:
        """Log the model with its signature and pinned requirements; digest what was stored."""
        import mlflow
        import numpy
        import sklearn
        from mlflow.models import infer_signature

        # Served as predict_proba: the stack's gateway answers [P(stay), P(churn)] per row.
        signature = infer_signature(example, model.predict_proba(example))
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=signature,
            input_example=example.head(3),
            pyfunc_predict_fn="predict_proba",
            pip_requirements=[
                f"scikit-learn=={sklearn.__version__}",
                f"numpy=={numpy.__version__}",
                f"pandas=={pd.__version__}",
            ],
        )
        self.model_uri = info.model_uri
        with tempfile.TemporaryDirectory() as scratch:
            local = mlflow.artifacts.download_artifacts(info.model_uri, dst_path=scratch)
            self.artifact_sha256 = tree_sha256(Path(local))

    def register(self, model_uri: str, name: str, tags: Mapping[str, str]) -> str:
        """Register a model version carrying the lineage tags; returns its version number."""
        import mlflow
        from mlflow import MlflowClient

        version = mlflow.register_model(model_uri, name, tags=dict(tags))
        MlflowClient().set_registered_model_alias(name, "candidate", version.version)
        return str(version.version)

    def record(self) -> dict[str, str]:
        return {
            "run_id": self.run_id,
            "model_uri": self.model_uri,
            "artifact_sha256": self.artifact_sha256,
        }

    def finish(self) -> None:
        import mlflow

        mlflow.end_run()


class WandbTracker:
    """One W&B run; offline (synced later with ``wandb sync``) when no API key is set."""

    name = "wandb"

    def __init__(self, settings: Settings, run_name: str, run_id: str | None = None) -> None:
        import wandb

        # Typed as Any: W&B's run API is only partly annotated.
        self._run: Any = wandb.init(
            project=settings.model_name,
            name=run_name,
            id=run_id,
            resume="allow" if run_id else None,
            mode="offline" if settings.wandb_offline else "online",
            dir=settings.root,
            config={"owner": settings.owner, "pipeline_run": settings.pipeline_run},
        )
        self.run_id: str = self._run.id

    def log_params(self, params: Mapping[str, Any]) -> None:
        self._run.config.update(dict(params), allow_val_change=True)

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        self._run.log(dict(metrics))
        self._run.summary.update(dict(metrics))

    def log_lineage(self, tags: Mapping[str, str]) -> None:
        """Keep the lineage with the run (W&B has no registry in offline mode)."""
        self._run.config.update({"lineage": dict(tags)}, allow_val_change=True)

    def record(self) -> dict[str, str]:
        return {"run_id": self.run_id}

    def finish(self) -> None:
        self._run.finish()


def open_trackers(
    settings: Settings, run_name: str, resume: Mapping[str, Mapping[str, str]] | None = None
) -> list[Tracker]:
    """Start (or resume, from a previous stage's record) a run on every configured backend."""
    resume = resume or {}
    trackers: list[Tracker] = []
    for backend in settings.tracking:
        run_id = resume.get(backend, {}).get("run_id")
        if backend == "mlflow":
            trackers.append(MlflowTracker(settings, run_name, run_id))
        else:
            trackers.append(WandbTracker(settings, run_name, run_id))
    return trackers
