"""One column's drift: the statistic, the p-value, the verdict, on samples with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from stratakit.monitor.statistics import compare, kind_of, psi
from stratakit.settings import MonitoringSettings

SETTINGS = MonitoringSettings()
RNG = np.random.default_rng(7)
REFERENCE = RNG.normal(10.0, 2.0, 5_000)


def test_a_sample_of_the_same_distribution_has_not_drifted() -> None:
    result = compare("x", REFERENCE, RNG.normal(10.0, 2.0, 1_000), SETTINGS)
    assert (result.kind, result.statistic, result.verdict) == ("numeric", "psi", "ok")
    assert result.value is not None and result.value < 0.05
    assert result.p_value is not None and result.p_value > 0.01


def test_a_shift_of_one_standard_deviation_has_drifted() -> None:
    result = compare("x", REFERENCE, RNG.normal(12.0, 2.0, 1_000), SETTINGS)
    assert result.verdict == "drift"
    assert result.value is not None and result.value > 0.5
    assert result.p_value is not None and result.p_value < 1e-6
    assert "psi" in result.reasons[0]


def test_psi_of_identical_samples_is_zero_and_grows_with_the_shift() -> None:
    assert psi(REFERENCE, REFERENCE, 10) == pytest.approx(0.0, abs=1e-12)
    shifts = [psi(REFERENCE, REFERENCE + d, 10) for d in (0.5, 1.0, 2.0)]
    assert shifts == sorted(shifts)


def test_too_few_rows_is_not_enough_data_never_drift() -> None:
    result = compare("x", REFERENCE, RNG.normal(50.0, 1.0, 50), SETTINGS)
    assert result.verdict == "not enough data"
    assert result.value is None
    assert "50 rows in the window, 200 needed" in result.reasons[0]


def test_categories_unseen_in_the_reference_are_reported() -> None:
    reference = np.array(["basic", "plus", "pro"] * 400, dtype=object)
    current = np.array(["basic", "plus", "pro"] * 100 + ["enterprise"] * 30, dtype=object)
    result = compare("plan", reference, current, SETTINGS)
    assert (result.kind, result.statistic) == ("categorical", "jensen_shannon")
    assert result.unseen == {"enterprise": 30}
    assert any("unseen" in reason for reason in result.reasons)
    assert result.p_value is not None and result.p_value < 0.01


def test_a_categorical_shift_drifts_and_an_unchanged_mix_does_not() -> None:
    reference = RNG.choice(["a", "b", "c"], 3_000, p=[0.6, 0.3, 0.1]).astype(object)
    same = RNG.choice(["a", "b", "c"], 1_000, p=[0.6, 0.3, 0.1]).astype(object)
    moved = RNG.choice(["a", "b", "c"], 1_000, p=[0.1, 0.3, 0.6]).astype(object)
    assert compare("c", reference, same, SETTINGS).verdict == "ok"
    assert compare("c", reference, moved, SETTINGS).verdict == "drift"


def test_flags_and_labels_are_categorical_measurements_numeric() -> None:
    assert kind_of(RNG.integers(0, 2, 500).astype("float64"), SETTINGS) == "categorical"
    assert kind_of(np.array([True, False] * 10), SETTINGS) == "categorical"
    assert kind_of(REFERENCE, SETTINGS) == "numeric"


def test_a_rise_of_missing_values_is_drift_of_its_own() -> None:
    current = RNG.normal(10.0, 2.0, 1_000)
    current[:200] = np.nan
    result = compare("x", REFERENCE, current, SETTINGS)
    assert result.verdict == "drift"
    assert result.current_missing == pytest.approx(0.2)
    assert result.reference_missing == 0.0
    assert any("missing values" in reason for reason in result.reasons)


def test_integer_labels_and_their_logged_floats_are_the_same_categories() -> None:
    labels = RNG.integers(0, 2, 1_000)
    result = compare("prediction", labels, labels[:500].astype("float64"), SETTINGS)
    assert result.unseen == {}
    assert result.verdict == "ok"


def test_text_logged_in_a_numeric_column_is_drift_not_a_crash() -> None:
    current = RNG.normal(10.0, 2.0, 1_000).astype(object)
    current[:30] = "n/a"
    current[30:40] = [["a list"]] * 10
    current[40:50] = "12.5"  # a number sent as text still counts as that number
    result = compare("x", REFERENCE, current, SETTINGS)
    assert (result.kind, result.verdict) == ("numeric", "drift")
    assert "40 values are not numbers (e.g. 'n/a')" in result.reasons
    assert result.value is not None and result.value < 0.1  # the numbers themselves are fine
