"""The MLflow client, configured by the contract, logs, registers, aliases and loads a model."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from ..helpers.stacks import RunningStack

pytestmark = pytest.mark.e2e


def test_log_register_alias_and_load(contract_env: RunningStack) -> None:
    import boto3
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.linear_model import LinearRegression

    features = np.arange(20, dtype=float).reshape(-1, 2)
    target = features @ np.array([1.5, -2.0]) + 3.0
    model = LinearRegression().fit(features, target)
    name = f"e2e-model-{uuid.uuid4().hex[:6]}"

    mlflow.set_experiment("e2e")
    with mlflow.start_run() as run:
        mlflow.log_param("kind", "linear")
        mlflow.log_metric("r2", float(model.score(features, target)))
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(features, target),
            registered_model_name=name,
        )
    client = mlflow.MlflowClient()
    client.set_registered_model_alias(name, "production", info.registered_model_version)

    assert client.get_run(run.info.run_id).data.metrics["r2"] == pytest.approx(1.0)
    version = client.get_model_version_by_alias(name, "production")
    assert version.version == str(info.registered_model_version)
    loaded = mlflow.pyfunc.load_model(f"models:/{name}@production")
    np.testing.assert_allclose(loaded.predict(features[:3]), model.predict(features[:3]))

    # The artifacts really live in the project's bucket (proxied by the tracking server).
    s3 = boto3.client("s3")
    keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=contract_env.bucket, Prefix="mlflow/")["Contents"]
    ]
    assert any(key.endswith("MLmodel") for key in keys)
