"""Stage ``featurize``: model features computed from one snapshot row.

Every feature depends only on the row itself, so the same function serves training and
online inference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .data import PLANS

KEYS = ("customer_id", "event_timestamp")
LABEL = "churned"
FEATURES = (
    "tenure_months",
    "monthly_charges",
    "support_calls",
    "usage_hours",
    "charges_per_tenure_month",
    "calls_per_usage_hour",
    "is_annual_contract",
    *(f"plan_{plan}" for plan in PLANS),
)


def featurize(frame: pd.DataFrame) -> pd.DataFrame:
    """Keys, the features in :data:`FEATURES` order (all float64), and the label."""
    out = frame.loc[:, [*KEYS]].copy()
    out["tenure_months"] = frame["tenure_months"].astype("float64")
    out["monthly_charges"] = frame["monthly_charges"].astype("float64")
    out["support_calls"] = frame["support_calls"].astype("float64")
    out["usage_hours"] = frame["usage_hours"].astype("float64")
    out["charges_per_tenure_month"] = frame["monthly_charges"] / (frame["tenure_months"] + 1.0)
    out["calls_per_usage_hour"] = frame["support_calls"] / (frame["usage_hours"] + 1.0)
    out["is_annual_contract"] = (frame["contract"] == "annual").astype("float64")
    for plan in PLANS:
        out[f"plan_{plan}"] = (frame["plan"] == plan).astype("float64")
    if LABEL in frame.columns:
        out[LABEL] = frame[LABEL].astype("int64")
    values = out.loc[:, list(FEATURES)].to_numpy()
    if not np.isfinite(values).all():
        raise ValueError("featurize produced a non-finite value; check the raw data ranges")
    return out
