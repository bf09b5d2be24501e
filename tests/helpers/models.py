"""A real MLflow model folder, saved the way generated projects log theirs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

#: The model's inputs, in signature order.
COLUMNS = ["tenure", "spend", "tickets"]


def churn_rows(n: int) -> pd.DataFrame:
    """``n`` rows of the churn model's inputs, the same for the same ``n``."""
    rng = np.random.default_rng(n)
    return pd.DataFrame(
        {
            "tenure": rng.normal(size=n),
            "spend": rng.normal(size=n),
            "tickets": rng.integers(0, 5, n),
        }
    )


def save_churn_model(folder: Path) -> Path:
    """A scikit-learn pipeline with a signature and an input example (``predict_proba``)."""
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "tenure": rng.normal(size=300),
            "spend": rng.normal(size=300),
            "tickets": rng.integers(0, 5, 300),
        }
    )
    labels = (frame.tenure + frame.spend > 0).astype(int)
    estimator = make_pipeline(StandardScaler(), LogisticRegression())
    estimator.fit(frame[COLUMNS], labels)
    mlflow.sklearn.save_model(
        estimator,
        folder,
        signature=infer_signature(frame[COLUMNS], estimator.predict_proba(frame[COLUMNS])),
        input_example=frame[COLUMNS].head(3),
        pyfunc_predict_fn="predict_proba",
        pip_requirements=["scikit-learn"],
    )
    return folder


def wait_until_served(serving_url: str, model: str, version: str, timeout: float) -> None:
    """Poll the gateway until it serves ``version`` of ``model`` (and only it), else fail
    the test with the gateway's last answer."""
    import time

    import httpx
    import pytest

    deadline = time.monotonic() + timeout
    answer = None
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(f"{serving_url}/v2/models/{model}", timeout=10)
        except httpx.HTTPError:
            answer = None
        if (
            answer is not None
            and answer.status_code == 200
            and answer.json()["versions"] == [version]
        ):
            return
        time.sleep(0.5)
    last = "no answer" if answer is None else f"{answer.status_code} {answer.text[:500]}"
    pytest.fail(
        f"the gateway did not serve {model} version {version} within {timeout:.0f} s: {last}"
    )
