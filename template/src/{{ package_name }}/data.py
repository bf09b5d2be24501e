"""Deterministic sample data: monthly snapshots of customers with a churn label.

Standard library only, so that the project can create its raw data before anything is
installed (``python src/<package>/data.py data/raw/customers.csv``). Each row
carries an entity id (``customer_id``) and an event timestamp, the keys a feature store
joins on.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
from datetime import UTC, datetime
from pathlib import Path

COLUMNS = (
    "customer_id",
    "event_timestamp",
    "plan",
    "contract",
    "tenure_months",
    "monthly_charges",
    "support_calls",
    "usage_hours",
    "churned",
)
PLANS = ("basic", "standard", "premium")
CONTRACTS = ("monthly", "annual")
_PLAN_PRICE = {"basic": 25.0, "standard": 55.0, "premium": 95.0}


def _sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-value))


def generate_rows(customers: int = 1000, months: int = 6, seed: int = 7) -> list[dict[str, str]]:
    """One row per customer and month; the same arguments always give the same rows."""
    if customers < 1 or months < 2:
        raise ValueError("need at least 1 customer and 2 months of snapshots")
    rng = random.Random(seed)  # noqa: S311 - reproducible sample data, not security
    rows: list[dict[str, str]] = []
    for number in range(1, customers + 1):
        plan = rng.choices(PLANS, weights=(5, 3, 2))[0]
        contract = rng.choices(CONTRACTS, weights=(3, 2))[0]
        tenure = rng.randint(1, 60)
        engagement = rng.gauss(0.0, 1.0)
        for month in range(months):
            calls = min(12, int(rng.expovariate(1.0 / (1.5 - 0.4 * engagement + 0.1)) + 0.5))
            usage = max(0.0, rng.gauss(40.0 + 12.0 * engagement, 10.0))
            charges = _PLAN_PRICE[plan] * rng.uniform(0.9, 1.15)
            risk = (
                -1.2
                + 0.35 * calls
                - 0.045 * (tenure + month)
                - 0.03 * (usage - 40.0)
                + (0.9 if contract == "monthly" else -0.6)
                + 0.012 * (charges - 50.0)
            )
            churned = rng.random() < _sigmoid(risk)
            rows.append(
                {
                    "customer_id": f"C{number:05d}",
                    "event_timestamp": datetime(2025, month + 1, 1, tzinfo=UTC).isoformat(),
                    "plan": plan,
                    "contract": contract,
                    "tenure_months": str(tenure + month),
                    "monthly_charges": f"{charges:.2f}",
                    "support_calls": str(calls),
                    "usage_hours": f"{usage:.1f}",
                    "churned": "1" if churned else "0",
                }
            )
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    """Write rows with a header; the file is replaced only once it is complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    with partial.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    partial.replace(path)


def main(argv: list[str] | None = None) -> None:
    """Command line: ``data.py OUT [--customers N] [--months M] [--seed S]``."""
    parser = argparse.ArgumentParser(description="Write the deterministic sample dataset.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    write_csv(args.out, generate_rows(args.customers, args.months, args.seed))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
