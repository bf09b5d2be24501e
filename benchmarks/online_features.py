"""Benchmark: what fetching a model's features from the online store adds inside the gateway.

One throw-away stack serves one model trained from a Feast feature view (SQLite online
store, offline parquet in the stack's bucket). The same customers are scored two ways,
taking turns in every round: with the features inline in the request, and with only the
customer id, the gateway fetching the features from Feast. Both must give the same
prediction first, else the comparison would measure different work. The figure of merit
is the added p99 latency of a key-only request at concurrency 1 and 8 (target: <= 2 ms at
concurrency 1 on a 2-core machine), as medians over rounds.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is not a package
from loadgen import run_load
from serving import SetupError, client_env, http_call, running_stack, wait_for

MODEL_NAME = "bench-churn"
LEVELS = (1, 8)
TARGET_ADDED_P99_MS = 2.0
FEATURES = ("tenure", "spend", "tickets", "usage", "calls_per_hour", "discount")
CUSTOMERS = 2000

FEATURE_STORE_YAML = """\
project: bench
provider: local
registry:
  registry_type: file
  path: ${STRATA_FEAST_REGISTRY}
  cache_ttl_seconds: 60
online_store: ${STRATA_FEAST_ONLINE_STORE}
offline_store:
  type: dask
entity_key_serialization_version: 3
"""

#: Runs in a fresh interpreter configured by the contract alone: publishes the features,
#: registers the view, materializes it, trains on historical retrieval and registers the
#: model with its feature refs. Prints the version and one customer's online features.
SETUP_CODE = textwrap.dedent(
    """
    import json, os, sys
    from datetime import UTC, datetime, timedelta

    import mlflow
    import numpy as np
    import pandas as pd
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource
    from feast.types import Float64
    from feast.value_type import ValueType
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    name, customers, features = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
    rng = np.random.default_rng(0)
    when = datetime(2025, 6, 1, tzinfo=UTC)
    table = pd.DataFrame({f: rng.gamma(2.0, 1.0, customers) for f in features})
    table.insert(0, "customer_id", [f"C{i:05d}" for i in range(customers)])
    table.insert(1, "event_timestamp", when)
    uri = os.environ["STRATA_S3_URI"] + "/features/bench.parquet"
    endpoint = os.environ["AWS_ENDPOINT_URL_S3"]
    table.to_parquet(uri, storage_options={"client_kwargs": {"endpoint_url": endpoint}})
    customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.STRING)
    view = FeatureView(
        name="bench_features", entities=[customer], ttl=timedelta(days=365),
        schema=[Field(name=f, dtype=Float64) for f in features],
        source=FileSource(path=uri, timestamp_field="event_timestamp",
                          s3_endpoint_override=endpoint),
    )
    store = FeatureStore(repo_path="feature_repo")
    store.apply([customer, view])
    store.materialize(start_date=datetime(1970, 1, 1, tzinfo=UTC), end_date=datetime.now(UTC))
    refs = [f"bench_features:{f}" for f in features]
    labels = table.loc[:, ["customer_id", "event_timestamp"]].assign(
        event_timestamp=when + timedelta(days=1)
    )
    X = store.get_historical_features(labels, refs).to_df().sort_values("customer_id")
    X = X.loc[:, features].reset_index(drop=True)
    y = (X["spend"] - X["tenure"] + rng.normal(0, 1, len(X)) > 0).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    mlflow.set_experiment("online-features-benchmark")
    with mlflow.start_run():
        mlflow.log_metric("auc", 0.9)
        info = mlflow.sklearn.log_model(
            model, name="model", signature=infer_signature(X, model.predict_proba(X)),
            input_example=X.head(3), pyfunc_predict_fn="predict_proba",
            pip_requirements=["scikit-learn"],
        )
    version = mlflow.register_model(
        info.model_uri, name, tags={"strata.feature_refs": ",".join(refs)}
    )
    online = store.get_online_features(refs, [{"customer_id": "C00007"}]).to_dict()
    row = {f: online[f][0] for f in features}
    print(json.dumps({"version": version.version, "row": row}))
    """
)


def setup(root: Path, contract: dict[str, str], console: Console) -> tuple[str, dict[str, float]]:
    """The feature repo, the view, the model, promoted: returns its version and one row."""
    repo = root / "feature_repo"
    repo.mkdir()
    (repo / "feature_store.yaml").write_text(FEATURE_STORE_YAML)
    env = client_env(contract)
    with console.status("publishing features, materializing, training, registering"):
        done = subprocess.run(
            [sys.executable, "-c", SETUP_CODE, MODEL_NAME, str(CUSTOMERS), ",".join(FEATURES)],
            env=env, cwd=root, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        raise SetupError(f"setup failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    version = str(answer["version"])
    promoted = subprocess.run(
        [sys.executable, "-m", "stratakit.cli", "model", "promote", MODEL_NAME, version,
         "--to", "production", "-m", "bench", "--project-dir", str(root)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if promoted.returncode != 0:
        raise SetupError(f"promotion failed:\n{promoted.stdout[-3000:]}{promoted.stderr[-3000:]}")
    return version, {k: float(v) for k, v in answer["row"].items()}


def measure() -> int:
    """Set up, check both paths agree, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=3000, help="per round and mode")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    console = Console()
    console.print(f"machine: {platform.machine()}, {platform.python_version()}")
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_stack(Path(tmp), console) as (
            project,
            contract,
        ),
    ):
        version, row = setup(project.root, contract, console)
        url = f"{contract['STRATA_SERVING_URL']}/models/{MODEL_NAME}/invocations"
        seconds = wait_for(f"{contract['STRATA_SERVING_URL']}/v2/models/{MODEL_NAME}", 180)
        console.print(f"gateway serves {MODEL_NAME} v{version} ({seconds:.1f} s)")
        bodies = {
            "inline": json.dumps({"dataframe_records": [row]}).encode(),
            "by key": json.dumps({"dataframe_records": [{"customer_id": "C00007"}]}).encode(),
        }
        answers = {mode: http_call(url, body) for mode, body in bodies.items()}
        for mode, (status, payload) in answers.items():
            if status != 200:
                raise SetupError(f"{mode} answered {status}: {payload}")
        if answers["inline"][1] != answers["by key"][1]:
            raise SetupError(f"by key {answers['by key'][1]} != inline {answers['inline'][1]}")
        console.print(f"same prediction both ways: {answers['inline'][1]['predictions']}")
        p99: dict[tuple[str, int], list[float]] = {}
        p50: dict[tuple[str, int], list[float]] = {}
        for level in LEVELS:
            for _ in range(args.rounds):
                for mode, body in bodies.items():
                    result = run_load(url, body, concurrency=level, requests=args.requests,
                                      warmup=200)  # fmt: skip
                    failed = result.requests - len(result.latencies_s)
                    if failed:
                        raise SetupError(f"{mode} at {level}: {failed} failed requests")
                    p99.setdefault((mode, level), []).append(result.percentile_ms(99))
                    p50.setdefault((mode, level), []).append(result.percentile_ms(50))
                    time.sleep(0.2)
    table = Table(title=f"online features in the gateway (medians of {args.rounds} rounds)")
    for column in ("clients", "inline p50", "inline p99", "by key p50", "by key p99", "added p99"):
        table.add_column(column, justify="right")
    results = []
    for level in LEVELS:
        med = {k: statistics.median(v) for k, v in p99.items() if k[1] == level}
        mid = {k: statistics.median(v) for k, v in p50.items() if k[1] == level}
        added = med[("by key", level)] - med[("inline", level)]
        by_mode = {k[0]: v for k, v in med.items()}
        results.append({"clients": level, "added_p99_ms": added, "p99_ms": by_mode})
        table.add_row(
            str(level),
            f"{mid[('inline', level)]:.2f} ms", f"{med[('inline', level)]:.2f} ms",
            f"{mid[('by key', level)]:.2f} ms", f"{med[('by key', level)]:.2f} ms",
            f"{added:+.2f} ms",
        )  # fmt: skip
    console.print(table)
    added_one = results[0]["added_p99_ms"]
    verdict = "met" if added_one <= TARGET_ADDED_P99_MS else "missed"
    console.print(f"target: added p99 <= {TARGET_ADDED_P99_MS} ms at 1 client: {verdict}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def main() -> int:
    """The benchmark; a setup failure is one message and exit status 1."""
    try:
        return measure()
    except SetupError as exc:
        Console(stderr=True).print(f"[red]setup failed:[/red] {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
