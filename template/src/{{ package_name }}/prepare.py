"""Stage ``prepare``: validate the raw snapshots and split them in time.

The split is by event time, not at random: the model is trained on earlier months and
evaluated on the latest ones, the way it will be used.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .data import COLUMNS, CONTRACTS, PLANS


class DataValidationError(ValueError):
    """The raw data breaks the schema; the message names the column and the problem."""


@dataclass(frozen=True)
class Split:
    """Training rows (earlier months) and test rows (the latest months)."""

    train: pd.DataFrame
    test: pd.DataFrame


def validate(raw: pd.DataFrame) -> pd.DataFrame:
    """Check columns, types and ranges; return a typed copy without duplicate rows."""
    missing = [column for column in COLUMNS if column not in raw.columns]
    if missing:
        raise DataValidationError(f"raw data lacks column(s) {missing}")
    frame = raw.loc[:, list(COLUMNS)].copy()
    if frame.isna().any().any():
        bad = [column for column in COLUMNS if frame[column].isna().any()]
        raise DataValidationError(f"raw data has empty values in {bad}")
    frame["event_timestamp"] = pd.to_datetime(frame["event_timestamp"], utc=True)
    for column in ("tenure_months", "support_calls", "churned"):
        frame[column] = frame[column].astype("int64")
    for column in ("monthly_charges", "usage_hours"):
        frame[column] = frame[column].astype("float64")
    checks = {
        "plan": frame["plan"].isin(PLANS),
        "contract": frame["contract"].isin(CONTRACTS),
        "tenure_months": frame["tenure_months"] >= 0,
        "monthly_charges": frame["monthly_charges"] > 0,
        "support_calls": frame["support_calls"] >= 0,
        "usage_hours": frame["usage_hours"] >= 0,
        "churned": frame["churned"].isin((0, 1)),
    }
    for column, ok in checks.items():
        if not ok.all():
            raise DataValidationError(f"column {column!r} has {int((~ok).sum())} invalid value(s)")
    return frame.drop_duplicates(subset=["customer_id", "event_timestamp"]).reset_index(drop=True)


def split_by_time(frame: pd.DataFrame, test_months: int) -> Split:
    """Hold out the latest ``test_months`` snapshots for evaluation."""
    months = sorted(frame["event_timestamp"].unique())
    if not 1 <= test_months < len(months):
        raise DataValidationError(
            f"prepare.test_months must be between 1 and {len(months) - 1} (got {test_months})"
        )
    cutoff = months[-test_months]
    earlier = frame["event_timestamp"] < cutoff
    return Split(
        train=frame[earlier].reset_index(drop=True), test=frame[~earlier].reset_index(drop=True)
    )
