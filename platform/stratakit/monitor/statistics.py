"""Drift of one column: the statistic fit for its type, the test's p-value, the verdict.

Numeric columns are compared by the population stability index (PSI) over quantile bins of
the reference, with the two-sample Kolmogorov-Smirnov test's p-value beside it. Categorical
columns (strings, booleans, and numbers with few distinct reference values, such as one-hot
flags and class labels) are compared by the Jensen-Shannon distance of their frequencies,
with the chi-square test of homogeneity's p-value. The verdict follows the statistic and its
threshold; p-values are reported, not used, because at thousands of rows they call every
negligible shift significant. Missing values are counted apart and a rise of their share is
drift of its own. Too few current rows is "not enough data", never a false alarm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from stratakit.settings import MonitoringSettings

Verdict = Literal["drift", "ok", "not enough data"]
Kind = Literal["numeric", "categorical"]

#: Floor of a bin's share in the stability index, so an empty bin does not make it infinite.
_FLOOR = 1e-4


@dataclass(frozen=True)
class ColumnDrift:
    """One column's comparison; ``statistic`` is the PSI or the Jensen-Shannon distance."""

    column: str
    kind: Kind
    statistic: str
    value: float | None
    threshold: float
    p_value: float | None
    verdict: Verdict
    reference_rows: int
    current_rows: int
    reference_missing: float
    current_missing: float
    unseen: dict[str, int] = field(default_factory=dict)
    """Categories absent from the reference → how often they occur in the window."""
    reasons: tuple[str, ...] = ()


def _missing(values: npt.NDArray[np.generic]) -> npt.NDArray[np.bool_]:
    if values.dtype.kind == "f":
        return np.asarray(np.isnan(values), dtype=bool)
    if values.dtype.kind == "O":
        return np.array(
            [v is None or (isinstance(v, float) and np.isnan(v)) for v in values], dtype=bool
        )
    return np.zeros(len(values), dtype=bool)


def kind_of(reference: npt.NDArray[np.generic], settings: MonitoringSettings) -> Kind:
    """Numeric when the reference holds numbers with more than a handful of values."""
    if reference.dtype.kind in "iuf":
        present = reference[~_missing(reference)]
        if len(np.unique(present)) > settings.categorical_max_values:
            return "numeric"
    return "categorical"


def psi(reference: npt.NDArray[np.float64], current: npt.NDArray[np.float64], bins: int) -> float:
    """Population stability index of ``current`` against quantile bins of ``reference``."""
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    slots = len(edges) + 1
    expected = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=slots)
    actual = np.bincount(np.searchsorted(edges, current, side="right"), minlength=slots)
    e = np.clip(expected / expected.sum(), _FLOOR, None)
    a = np.clip(actual / actual.sum(), _FLOOR, None)
    return float(np.sum((a - e) * np.log(a / e)))


def _numeric(
    reference: npt.NDArray[np.float64], current: npt.NDArray[np.float64], bins: int
) -> tuple[float, float]:
    from scipy.stats import ks_2samp

    p_value = float(ks_2samp(reference, current, method="asymp").pvalue)
    return psi(reference, current, bins), p_value


def _labels(values: npt.NDArray[np.generic]) -> npt.NDArray[np.str_]:
    """Categories as text; numbers through float64, so a label 1 and a logged 1.0 are one."""
    if values.dtype.kind in "iuf":
        return values.astype("float64").astype(str)
    return values.astype(str)


def _categorical(
    reference: npt.NDArray[np.generic], current: npt.NDArray[np.generic]
) -> tuple[float, float | None, dict[str, int]]:
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import chi2_contingency

    ref_values, ref_counts = np.unique(_labels(reference), return_counts=True)
    cur_values, cur_counts = np.unique(_labels(current), return_counts=True)
    categories = np.union1d(ref_values, cur_values)
    table = np.zeros((2, len(categories)))
    table[0, np.searchsorted(categories, ref_values)] = ref_counts
    table[1, np.searchsorted(categories, cur_values)] = cur_counts
    distance = float(jensenshannon(table[0], table[1], base=2))
    p_value = float(chi2_contingency(table).pvalue) if len(categories) > 1 else None
    known = set(ref_values.tolist())
    unseen = {
        str(value): int(count)
        for value, count in zip(cur_values, cur_counts, strict=True)
        if value not in known
    }
    return distance, p_value, unseen


def as_numbers(values: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.float64], int, str]:
    """``values`` as floats, with how many are not numbers and the first of them.

    What is not a number (``"abc"``, a list) becomes NaN; ``repr`` of the first is kept for
    the report.
    """
    try:
        return values.astype("float64"), 0, ""
    except (TypeError, ValueError):
        pass
    numbers = np.empty(len(values), dtype="float64")
    bad, example = 0, ""
    for index, value in enumerate(values):
        try:
            numbers[index] = float(value)
        except (TypeError, ValueError):
            numbers[index] = np.nan
            bad += 1
            example = example or repr(value)[:40]
    return numbers, bad, example


def compare(
    column: str,
    reference: npt.NDArray[np.generic],
    current: npt.NDArray[np.generic],
    settings: MonitoringSettings,
) -> ColumnDrift:
    """Compare one column of the window with the same column of the reference."""
    kind = kind_of(reference, settings)
    ref_missing, cur_missing = _missing(reference), _missing(current)
    ref_share = float(ref_missing.mean()) if len(reference) else 0.0
    cur_share = float(cur_missing.mean()) if len(current) else 0.0
    ref, cur = reference[~ref_missing], current[~cur_missing]
    threshold = settings.numeric_threshold if kind == "numeric" else settings.categorical_threshold
    statistic = "psi" if kind == "numeric" else "jensen_shannon"

    def result(
        value: float | None,
        p_value: float | None,
        verdict: Verdict,
        reasons: list[str],
        unseen: dict[str, int] | None = None,
    ) -> ColumnDrift:
        return ColumnDrift(
            column=column,
            kind=kind,
            statistic=statistic,
            value=value,
            threshold=threshold,
            p_value=p_value,
            verdict=verdict,
            reference_rows=len(ref),
            current_rows=len(cur),
            reference_missing=ref_share,
            current_missing=cur_share,
            unseen=unseen or {},
            reasons=tuple(reasons),
        )

    if len(current) < settings.min_rows:
        return result(
            None, None, "not enough data",
            [f"{len(current)} rows in the window, {settings.min_rows} needed"],
        )  # fmt: skip
    if len(ref) == 0:
        return result(None, None, "not enough data", ["the reference holds no values"])
    reasons: list[str] = []
    unseen: dict[str, int] = {}
    not_numbers = 0
    if len(cur) == 0:
        value, p_value = 0.0, None
    elif kind == "numeric":
        numbers, not_numbers, example = as_numbers(cur)
        if not_numbers:  # the column's type changed: drift, whatever the rest says
            reasons.append(f"{not_numbers} values are not numbers (e.g. {example})")
            numbers = numbers[~np.isnan(numbers)]
        value, p_value = (
            _numeric(ref.astype("float64"), numbers, settings.bins) if len(numbers) else (0.0, None)
        )
    else:
        value, p_value, unseen = _categorical(ref, cur)
    if value >= threshold:
        reasons.append(f"{statistic} {value:.3f} ≥ {threshold:g}")
    missing_rise = cur_share - ref_share >= settings.missing_threshold
    if missing_rise:
        reasons.append(f"missing values {ref_share:.1%} → {cur_share:.1%}")
    if unseen:
        reasons.append(f"{sum(unseen.values())} rows with unseen values")
    verdict: Verdict = "drift" if value >= threshold or missing_rise or not_numbers else "ok"
    return result(value, p_value, verdict, reasons, unseen)
