"""Stage ``train``: fit the churn classifier on the earlier months."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .features import FEATURES, LABEL

MODELS = ("logistic_regression", "gradient_boosting")


def build_model(params: Mapping[str, Any]) -> Pipeline:
    """The estimator named by ``train.model`` in ``params.yaml``, with its settings."""
    kind = params.get("model", "logistic_regression")
    seed = int(params.get("seed", 0))
    if kind == "logistic_regression":
        estimator: Any = LogisticRegression(
            C=float(params.get("C", 1.0)), max_iter=int(params.get("max_iter", 500))
        )
    elif kind == "gradient_boosting":
        estimator = HistGradientBoostingClassifier(
            max_iter=int(params.get("max_iter", 200)),
            learning_rate=float(params.get("learning_rate", 0.1)),
            random_state=seed,
        )
    else:
        raise ValueError(f"params.yaml: train.model must be one of {MODELS} (got {kind!r})")
    return Pipeline([("scale", StandardScaler()), ("model", estimator)])


def fit(features: pd.DataFrame, params: Mapping[str, Any]) -> Pipeline:
    """Fit on the feature columns; the label must hold both classes."""
    if features[LABEL].nunique() < 2:
        raise ValueError("training data holds a single class; generate more data")
    model = build_model(params)
    model.fit(features.loc[:, list(FEATURES)], features[LABEL])
    return model
