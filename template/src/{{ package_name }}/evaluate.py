"""Stage ``evaluate``: metrics and plot data on the held-out latest months."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

from .features import FEATURES, LABEL


def score(model: Any, features: pd.DataFrame, threshold: float = 0.5) -> dict[str, float]:
    """Accuracy, precision, recall, F1 and ROC AUC of ``model`` on ``features``."""
    truth = features[LABEL].to_numpy()
    probability = model.predict_proba(features.loc[:, list(FEATURES)])[:, 1]
    predicted = (probability >= threshold).astype(int)
    return {
        "accuracy": float(accuracy_score(truth, predicted)),
        "precision": float(precision_score(truth, predicted, zero_division=0)),
        "recall": float(recall_score(truth, predicted, zero_division=0)),
        "f1": float(f1_score(truth, predicted, zero_division=0)),
        "roc_auc": float(roc_auc_score(truth, probability)),
    }


def roc_points(model: Any, features: pd.DataFrame, points: int = 50) -> pd.DataFrame:
    """At most ``points`` rows of the ROC curve, for ``dvc plots``."""
    probability = model.predict_proba(features.loc[:, list(FEATURES)])[:, 1]
    fpr, tpr, _ = roc_curve(features[LABEL].to_numpy(), probability)
    step = max(1, len(fpr) // points)
    curve = pd.DataFrame({"fpr": fpr[::step], "tpr": tpr[::step]})
    return pd.concat([curve, pd.DataFrame({"fpr": [1.0], "tpr": [1.0]})], ignore_index=True)


def confusion_rows(model: Any, features: pd.DataFrame, threshold: float = 0.5) -> pd.DataFrame:
    """One (actual, predicted) row per example, for DVC's confusion-matrix template."""
    probability = model.predict_proba(features.loc[:, list(FEATURES)])[:, 1]
    return pd.DataFrame(
        {"actual": features[LABEL].to_numpy(), "predicted": (probability >= threshold).astype(int)}
    )
