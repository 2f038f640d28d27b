"""summarize() and check_quality() count every kind of value and never crash."""

from __future__ import annotations

import json

import numpy as np
import pytest

from keeneye.errors import InputError
from keeneye.schema import FeatureKind
from keeneye.stats import QUANTILES, check_quality, summarize


def test_numeric_summary_counts_and_statistics_over_finite_values() -> None:
    rng = np.random.default_rng(0)
    finite = rng.normal(3.0, 2.0, 1_000)
    values = np.r_[finite, [np.nan, np.nan, np.inf, -np.inf, -np.inf]]
    s = summarize(values, FeatureKind.NUMERIC)
    assert (s.count, s.nan, s.pos_inf, s.neg_inf, s.missing, s.wrong_type) == (1005, 2, 1, 2, 0, 0)
    assert s.valid == 1_000
    assert s.mean == pytest.approx(finite.mean(), rel=1e-12)
    assert s.std == pytest.approx(finite.std(ddof=1), rel=1e-12)
    assert (s.min, s.max) == (finite.min(), finite.max())
    assert list(s.quantiles) == list(QUANTILES)
    for q, v in s.quantiles.items():
        assert v == pytest.approx(np.quantile(finite, q), rel=1e-12)
    assert s.distinct == 1_000
    json.dumps(s.to_dict(), allow_nan=False)


def test_numeric_summary_of_objects_counts_missing_and_wrong_types() -> None:
    s = summarize(np.array([1, 2.5, None, "seven", True], dtype=object), "numeric")
    assert (s.count, s.missing, s.wrong_type, s.valid) == (5, 1, 1, 3)
    assert s.max == 2.5


@pytest.mark.parametrize("values", [[], [np.nan, np.nan], [None]])
def test_empty_and_all_nan_summaries_have_no_statistics(values: list[object]) -> None:
    s = summarize(np.array(values, dtype=object if None in values else float), "numeric")
    assert (s.mean, s.std, s.min, s.max, dict(s.quantiles), s.distinct) == (
        None,
        None,
        None,
        None,
        {},
        0,
    )
    assert json.loads(json.dumps(s.to_dict(), allow_nan=False))["mean"] is None


def test_categorical_summary_top_shares_and_types() -> None:
    values = np.array(["a"] * 6 + ["b"] * 3 + ["c"] + [None] * 2 + [7], dtype=object)
    s = summarize(values, "categorical")
    assert (s.count, s.missing, s.distinct, s.wrong_type) == (13, 2, 4, 1)
    assert s.top[0] == ("a", pytest.approx(6 / 11))
    assert s.types == {"str": 10, "int": 1}
    assert json.dumps(s.to_dict(), allow_nan=False)


def test_summarize_rejects_untestable_kinds() -> None:
    with pytest.raises(InputError, match="not text"):
        summarize(["x"], "text")


def test_quality_numeric() -> None:
    ref = summarize(np.r_[np.arange(100.0), [np.nan] * 0], "numeric")
    current = np.r_[np.arange(50.0, 150.0), [np.nan] * 25]
    report = check_quality(ref, current)
    assert report.out_of_range_count == 50  # 99 < x <= 149
    assert report.out_of_range_share == pytest.approx(50 / 100)
    assert report.missing_share_change == pytest.approx(25 / 125)
    assert not report.constant
    assert any("outside the reference range" in issue for issue in report.issues)
    json.dumps(report.to_dict(), allow_nan=False)


def test_quality_categorical_new_categories_constant_and_type_mismatch() -> None:
    ref = summarize(np.array(["a", "b", "c"] * 10, dtype=object), "categorical")
    report = check_quality(ref, np.array(["z"] * 5, dtype=object))
    assert report.new_categories == {"z": 5}
    assert report.constant
    ints = check_quality(ref, np.array([1, 2, 3], dtype=object))
    assert any("values are int, the reference's are str" in i for i in ints.issues)


def test_quality_reports_wrong_type_values() -> None:
    ref = summarize([1.0, 2.0], "numeric")
    report = check_quality(ref, np.array([1.5, "oops", None], dtype=object))
    assert report.type_mismatches == 1
    assert report.out_of_range_share == 0.0


def _plain(value: object) -> bool:
    """Only the types json.dumps produces on its own (no numpy scalars hiding inside)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or type(value) in (bool, int, float, str)


def test_every_result_types_to_dict_is_plain_strict_json() -> None:
    from keeneye.stats import ReferenceProfile, chi_square, detect_drift, ks

    values = np.array([1.0, np.inf, -np.inf, -np.inf, np.nan, 2.5, 1e300])
    labels = np.array(["a", "b", None, "a"], dtype=object)
    ints = np.array([np.int64(1), np.int64(2), np.int64(2)], dtype=object)
    profile = ReferenceProfile.fit(
        {"x": values, "c": labels, "i": ints},
        {"x": "numeric", "c": "categorical", "i": "categorical"},
    )
    drift = detect_drift(profile, {"x": values[::-1], "c": labels[::-1], "i": ints})
    produced = [
        summarize(values, "numeric").to_dict(),
        summarize(ints, "categorical").to_dict(),
        summarize(np.array([True, False, True]), "boolean").to_dict(),
        check_quality(summarize(values, "numeric"), values * 2).to_dict(),
        check_quality(
            summarize(labels, "categorical"), np.array(["z", "a"], dtype=object)
        ).to_dict(),
        ks(values, values[:3]).to_dict(),
        chi_square(labels, labels[::-1]).to_dict(),
        drift.to_dict(),
        drift.features[0].to_dict(),
    ]
    for data in produced:
        assert _plain(data), data
        assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert produced[0]["neg_inf"] == 2 and type(produced[0]["neg_inf"]) is int


def test_quality_messages_are_short_and_grammatical() -> None:
    ref = summarize(np.array([1.00578269945661, 2.5, 71.65755800696516]), "numeric")
    report = check_quality(ref, np.array([80.0, 2.0]))
    assert report.issues[0] == "1 of 2 values (50.0%) outside the reference range [1.006, 71.66]"
    one = check_quality(summarize(["a", "b"], "categorical"), ["a", "c"])
    assert one.issues == ("1 category not in the reference: 'c'",)
    many = check_quality(summarize(["a"], "categorical"), list("abcdefgh"))
    assert many.issues[0] == (
        "7 categories not in the reference: 'b', 'c', 'd', 'e', 'f' and 2 more"
    )
    wrong = check_quality(summarize([1.0, 2.0], "numeric"), np.array([1.0, "x"], dtype=object))
    assert "1 value of the wrong type" in wrong.issues
