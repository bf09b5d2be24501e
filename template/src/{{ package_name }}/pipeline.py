"""The pipeline's stages as commands: ``python -m <package>.pipeline STAGE``.

``dvc.yaml`` calls these; each stage reads its inputs from disk, writes its outputs, and
prints one line of what it did. The computing lives in the stage modules.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import joblib
import pandas as pd

from . import evaluate, feature_store, features, prepare, train
from .lineage import dvc_hashes, lineage_tags
from .settings import ConfigurationError, Settings, load_settings
from .tracking import MlflowTracker, WandbTracker, open_trackers

RAW = "data/raw/customers.csv"
PREPARED = "data/prepared"
FEATURES_DIR = "data/features"
FEATURE_TABLE = f"{FEATURES_DIR}/{feature_store.TABLE}"
MODEL = "models/model.pkl"
RUN_RECORD = "models/run.json"
METRICS = "metrics/metrics.json"


def _section(settings: Settings, name: str) -> Mapping[str, Any]:
    value = settings.params.get(name, {})
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"params.yaml: `{name}` must be a mapping")
    return value


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def run_prepare(settings: Settings) -> str:
    """Validate the raw CSV and split it in time into train and test parquet files."""
    raw = pd.read_csv(settings.path(RAW), dtype=str)
    frame = prepare.validate(raw)
    split = prepare.split_by_time(frame, int(_section(settings, "prepare").get("test_months", 1)))
    out = settings.path(PREPARED)
    out.mkdir(parents=True, exist_ok=True)
    split.train.to_parquet(out / "train.parquet", index=False)
    split.test.to_parquet(out / "test.parquet", index=False)
    return f"prepared {len(split.train)} training and {len(split.test)} test rows"


def _labels(settings: Settings, split: str) -> pd.DataFrame:
    return pd.read_parquet(settings.path(PREPARED) / f"{split}.parquet")


def _dataset(settings: Settings, split: str) -> pd.DataFrame:
    """A split's labelled rows with their features, from the feature store."""
    store = feature_store.open_store(settings)
    return feature_store.training_frame(store, _labels(settings, split))


def run_featurize(settings: Settings) -> str:
    """Compute every customer-month's features once; publish them to the offline store."""
    frame = pd.concat([_labels(settings, "train"), _labels(settings, "test")])
    table = features.featurize(frame.drop(columns=[features.LABEL]))
    settings.path(FEATURES_DIR).mkdir(parents=True, exist_ok=True)
    table.to_parquet(settings.path(FEATURE_TABLE), index=False)
    uri = feature_store.publish(table, settings)
    feature_store.open_store(settings)  # registers the definitions
    return f"featurized {len(features.FEATURES)} features of {len(table)} rows into {uri}"


def run_materialize(settings: Settings) -> str:
    """Bring the online store up to date with the offline store (incrementally)."""
    return feature_store.materialize(feature_store.open_store(settings))


def run_materialize_all(settings: Settings) -> str:
    """Rewrite the online store from the whole offline table (after a backfill)."""
    return feature_store.materialize(feature_store.open_store(settings), full=True)


def run_train(settings: Settings) -> str:
    """Fit the model, save it, and log params, metrics and the model to the trackers."""
    params = _section(settings, "train")
    data = _dataset(settings, "train")
    model = train.fit(data, params)
    settings.path(MODEL).parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, settings.path(MODEL))
    record: dict[str, Any] = {"pipeline_run": settings.pipeline_run, "trackers": {}}
    for tracker in open_trackers(settings, run_name=settings.pipeline_run):
        try:
            tracker.log_params({**params, "features": ",".join(features.FEATURES)})
            tracker.log_metrics({f"train_{k}": v for k, v in evaluate.score(model, data).items()})
            if isinstance(tracker, MlflowTracker):
                tracker.log_model(model, data.loc[:, list(features.FEATURES)])
            record["trackers"][tracker.name] = tracker.record()
        finally:
            tracker.finish()
    _write_json(settings.path(RUN_RECORD), record)
    return f"trained {params.get('model', 'logistic_regression')} on {len(data)} rows"


def run_evaluate(settings: Settings) -> str:
    """Score the held-out months, write metrics and plots, register the model version."""
    model = joblib.load(settings.path(MODEL))
    test = _dataset(settings, "test")
    metrics = evaluate.score(model, test)
    _write_json(settings.path(METRICS), metrics)
    evaluate.roc_points(model, test).to_csv(settings.path("metrics/roc.csv"), index=False)
    evaluate.confusion_rows(model, test).to_csv(settings.path("metrics/confusion.csv"), index=False)
    record = json.loads(settings.path(RUN_RECORD).read_text(encoding="utf-8"))
    trackers_record: Mapping[str, Mapping[str, str]] = record.get("trackers", {})
    missing = sorted(set(settings.tracking) - set(trackers_record))
    if missing:
        raise ConfigurationError(f"{RUN_RECORD} has no {missing} run: run the train stage again")
    registered = ""
    for tracker in open_trackers(settings, record["pipeline_run"], resume=trackers_record):
        try:
            tracker.log_metrics({f"test_{k}": v for k, v in metrics.items()})
            own = trackers_record[tracker.name]
            tags = lineage_tags(
                owner=settings.owner,
                artifact_sha256=own.get("artifact_sha256", ""),
                features=features.FEATURES,
                feature_refs=feature_store.feature_refs(),
                root=settings.root,
                data_hashes=dvc_hashes(settings.root, "train", [RAW + ".dvc"]),
                pipeline_run=record["pipeline_run"],
                tracking_run=own["run_id"],
            )
            if isinstance(tracker, MlflowTracker):
                version = tracker.register(own["model_uri"], settings.model_name, tags)
                registered = f"; registered {settings.model_name} version {version}"
            elif isinstance(tracker, WandbTracker):
                tracker.log_lineage(tags)
        finally:
            tracker.finish()
    summary = ", ".join(f"{k}={v:.3f}" for k, v in metrics.items())
    return f"evaluated: {summary}{registered}"


STAGES: dict[str, Callable[[Settings], str]] = {
    "prepare": run_prepare,
    "featurize": run_featurize,
    "train": run_train,
    "evaluate": run_evaluate,
    "materialize": run_materialize,
    "materialize-all": run_materialize_all,
}


def main(argv: list[str] | None = None) -> int:
    """Run one stage; configuration and data errors end in one line and exit status 1."""
    parser = argparse.ArgumentParser(description="Run one pipeline stage.")
    parser.add_argument("stage", choices=sorted(STAGES))
    args = parser.parse_args(argv)
    try:
        print(STAGES[args.stage](load_settings()))
    except (ConfigurationError, prepare.DataValidationError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
