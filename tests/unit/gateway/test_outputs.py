"""Output tensors as metadata declares them: from a real prediction, else from the signature."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from stratakit.gateway.loading import load_folder
from stratakit.gateway.outputs import OutputSpec, describe


def test_a_prediction_is_described_with_rows_as_minus_one() -> None:
    assert describe("predict_proba", np.zeros((3, 2))) == (
        OutputSpec("predict_proba", "FP64", (-1, 2)),
    )
    frame = pd.DataFrame({"label": np.array([1, 0], np.int32), "score": np.float32([0.1, 0.2])})
    assert describe("predict", frame) == (
        OutputSpec("label", "INT32", (-1,)),
        OutputSpec("score", "FP32", (-1,)),
    )
    assert describe("predict", pd.Series(["a", "b"])) == (OutputSpec("predict", "BYTES", (-1,)),)


def test_without_an_input_example_the_signature_declares_the_outputs(tmp_path: Path) -> None:
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    matrix = np.random.default_rng(1).normal(size=(50, 3)).astype(np.float32)
    estimator = LogisticRegression().fit(matrix, (matrix[:, 0] > 0).astype(np.int32))
    mlflow.sklearn.save_model(
        estimator,
        tmp_path / "m",
        signature=infer_signature(matrix, estimator.predict_proba(matrix)),
        pyfunc_predict_fn="predict_proba",
        pip_requirements=["scikit-learn"],
    )  # no input example: nothing to warm up on
    model = load_folder("plain", "1", tmp_path / "m")
    assert model.outputs == (OutputSpec("predict_proba", "FP32", (-1, 2)),)
    assert np.asarray(model.pyfunc.predict(matrix[:2])).dtype == np.float32  # what it returns
