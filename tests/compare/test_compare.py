"""``keeneye.compare``: inputs, kinds, pins, bad columns, and agreement with the engine/scipy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from scipy import stats

import keeneye
from keeneye import compare
from keeneye.errors import ColumnError, DataSourceError, InputError
from keeneye.schema import FeatureKind
from keeneye.stats import DriftOptions, ReferenceProfile, detect_drift


def _data(seed: int, shift: float, n: int = 400) -> dict[str, list[Any]]:
    rng = np.random.default_rng(seed)
    x = [float(v) for v in rng.normal(shift, 1.0, n)]
    x[3] = None  # type: ignore[call-overload]  # a missing value on every input type
    city = [str(v) for v in rng.choice(["Oslo", "Rome", "Lima"], n, p=[0.5, 0.3, 0.2])]
    city[5] = None  # type: ignore[call-overload]
    return {
        "x": x,
        "count": [int(v) for v in rng.poisson(3 + shift, n)],
        "city": city,
        "flag": [bool(v) for v in rng.random(n) < 0.3 + shift / 10],
    }


def _as(kind: str, data: dict[str, list[Any]], path: Path) -> object:
    table = pa.table(data)
    if kind == "dict of lists":
        return data
    if kind == "dict of arrays":
        # numpy has no missing value for floats (NaN is NaN): columns with None stay objects
        return {
            k: np.asarray(v, dtype=object) if None in v else np.asarray(v) for k, v in data.items()
        }
    if kind == "pyarrow.Table":
        return table
    if kind == "pyarrow.RecordBatch":
        return table.combine_chunks().to_batches()[0]
    if kind == "pandas":
        return table.to_pandas()
    if kind == "polars":
        return pl.from_arrow(table)
    if kind == "parquet":
        pq.write_table(table, path.with_suffix(".parquet"))
        return path.with_suffix(".parquet")
    if kind == "csv":
        pcsv.write_csv(table, path.with_suffix(".csv"))
        return str(path.with_suffix(".csv"))
    raise AssertionError(kind)


INPUT_KINDS = (
    "dict of lists",
    "dict of arrays",
    "pyarrow.Table",
    "pyarrow.RecordBatch",
    "pandas",
    "polars",
    "parquet",
    "csv",
)


def _without_sources(report: keeneye.DriftReport) -> dict[str, Any]:
    data = report.to_dict()
    for side in ("reference", "current"):
        data[side].pop("source")
    return data


def test_every_accepted_input_gives_the_same_report(tmp_path: Path) -> None:
    ref, cur = _data(1, 0.0), _data(2, 0.4)
    expected = _without_sources(compare(ref, cur))
    assert expected["dataset"]["drifted"] is True
    assert expected["profiles"]["x"]["reference"]["missing"] == 1
    for kind in INPUT_KINDS:
        report = compare(_as(kind, ref, tmp_path / "ref"), _as(kind, cur, tmp_path / "cur"))
        assert _without_sources(report) == expected, kind


def test_results_equal_the_engine_on_the_same_arrays() -> None:
    rng = np.random.default_rng(7)
    ref = {
        "x": rng.normal(0, 1, 3000),
        "y": rng.exponential(1, 3000),
        "c": rng.choice(np.array(["a", "b", "c"], dtype=object), 3000),
    }
    cur = {
        "x": rng.normal(0.08, 1, 2500),
        "y": rng.exponential(1, 2500),
        "c": rng.choice(np.array(["a", "b", "c"], dtype=object), 2500, p=[0.3, 0.3, 0.4]),
    }
    kinds = {"x": "numeric", "y": "numeric", "c": "categorical"}
    options = DriftOptions(correction="bh")
    engine = detect_drift(ReferenceProfile.fit(ref, kinds), cur, options=options)
    report = compare(ref, cur, options=options)
    assert report.features == engine.features
    assert report.dataset_drifted == engine.dataset_drifted
    assert report.drift_share == engine.drift_share
    assert report.correction == "bh"
    # and the engine's statistics are scipy's
    assert report["x"].statistic == pytest.approx(stats.ks_2samp(ref["x"], cur["x"]).statistic)
    assert report["x"].p_value == pytest.approx(stats.ks_2samp(ref["x"], cur["x"]).pvalue, rel=1e-9)
    table = [[np.sum(side["c"] == v) for v in ("a", "b", "c")] for side in (ref, cur)]
    chi2 = stats.chi2_contingency(table)
    assert report["c"].statistic == pytest.approx(chi2.statistic, rel=1e-9)
    assert report["c"].p_value == pytest.approx(chi2.pvalue, rel=1e-9)


def test_drift_on_a_shift_and_none_on_a_copy() -> None:
    rng = np.random.default_rng(3)
    ref = {"x": rng.normal(0, 1, 2000), "c": rng.choice(["a", "b"], 2000)}
    same = compare(ref, ref)
    assert same.dataset_drifted is False and same.drifted == () and same.drift_share == 0.0
    shifted = compare(ref, {"x": ref["x"] + 0.5, "c": ref["c"]})
    assert shifted.drifted == ("x",)
    assert shifted.dataset_drifted is True
    assert shifted.drift_share == 0.5
    assert [f.feature for f in shifted.features] == ["x", "c"]  # drifted first


def test_bad_columns_become_not_tested_rows() -> None:
    n = 200
    rng = np.random.default_rng(4)
    ref = pd.DataFrame(
        {
            "good": rng.normal(size=n),
            "all_nan": [np.nan] * n,
            "constant": [5.0] * n,
            "mixed": pd.Series([1] * (n - 1) + ["cat"], dtype=object),
            "when": pd.date_range("2024-01-01", periods=n, freq="h"),
            "notes": [f"free text number {i}" for i in range(n)],
            "vector": [[1.0, 2.0]] * n,
            "only_in_reference": rng.normal(size=n),
            "switched": rng.normal(size=n),
        }
    )
    cur = ref.drop(columns=["only_in_reference"]).assign(
        only_in_current=rng.normal(size=n),
        switched=["a", "b"] * (n // 2),
    )
    report = compare(ref, cur)
    # vectors are tested as embeddings (MMD and a domain classifier)
    assert report["vector"].method == "mmd" and report["vector.classifier"].tested
    reasons = {k: v for k, v in report.not_tested.items() if not k.startswith("vector")}
    # the Arrow types pandas' columns convert to (pandas 2: timestamp[ns] and string; pandas 3:
    # timestamp[us] and large_string)
    when_type = pa.array(ref["when"]).type
    text_type = pa.array(cur["switched"]).type
    assert reasons == {
        "all_nan": "not tested: every value is missing in the reference data (200 rows)",
        "constant": "not tested: constant in the reference (every value is 5.0): distribution "
        "tests are uninformative; the quality check reports current values outside it",
        "mixed": "not tested: mixed types: 199 int, 1 str (e.g. 'cat') in the reference data",
        "when": f"not tested: datetime column ({when_type}): dates and times are not tested "
        "for drift",
        "notes": "not tested: free text or identifiers (200 distinct values in 200 rows); set "
        "its kind to 'categorical' to test it anyway",
        "only_in_reference": "not tested: column missing in current data",
        "only_in_current": "not tested: column missing in reference data",
        "switched": f"not tested: type mismatch: double in the reference, {text_type} in the "
        "current data (200 of 200 current values are not numbers, e.g. 'a'); fix the data or "
        "set the column's kind",
    }
    assert report.n_tested == 3 and report["good"].drifted is False
    tested = [f.tested for f in report.features]
    assert tested == sorted(tested, reverse=True)  # tested before not tested
    for result in report.features:
        assert (result.drifted is None) == (result.reason is not None)
    # untested but readable columns are still summarised
    assert report.profiles["all_nan"].reference is not None
    assert report.profiles["all_nan"].reference.missing == n
    assert "column is constant" in report.issues("constant")


def test_empty_tables_and_all_missing_current() -> None:
    empty = pa.table({"a": pa.array([], pa.float64()), "b": pa.array([], pa.string())})
    report = compare(empty, empty)
    assert report.n_tested == 0 and report.dataset_drifted is False
    assert report.not_tested["a"] == "not tested: no finite values in the reference data (no rows)"
    assert report.not_tested["b"].startswith("not tested: no non-missing values in the reference")
    gone = compare({"a": [1.0, 2.0, 3.0]}, pa.table({"a": pa.nulls(3, pa.float64())}))
    assert gone.not_tested["a"] == "not tested: every value is missing in the current data (3 rows)"
    quality = gone.profiles["a"].quality
    assert quality is not None and quality.missing_share_current == 1.0


def test_nulls_and_nan_are_counted_apart() -> None:
    cur = pa.table({"x": pa.array([1.0, float("nan"), None, None, float("inf"), 2.0])})
    report = compare({"x": [1.0, 2.0, 3.0, 4.0]}, cur)
    summary = report.profiles["x"].current
    assert summary is not None
    assert (summary.missing, summary.nan, summary.pos_inf, summary.count) == (2, 1, 1, 6)


def test_kind_overrides() -> None:
    rng = np.random.default_rng(5)
    ref = {"code": rng.integers(0, 4, 500), "zip": [f"{v}" for v in rng.integers(0, 99, 500)]}
    report = compare(ref, ref, kinds={"code": "categorical", "zip": FeatureKind.NUMERIC})
    assert report["code"].kind is FeatureKind.CATEGORICAL and report["code"].method == "chi_square"
    assert report["zip"].kind is FeatureKind.NUMERIC and report["zip"].method == "ks"
    text = compare(ref, ref, kinds={"code": "text"})
    assert text.not_tested["code"] == (
        "not tested: int64 values where text was declared (text columns take strings) in the "
        "reference data"
    )
    with pytest.raises(InputError, match="unknown kind 'ordinal' for column 'code'"):
        compare(ref, ref, kinds={"code": "ordinal"})
    with pytest.raises(InputError, match=r"kinds names \['nope'\], which is in neither"):
        compare(ref, ref, kinds={"nope": "numeric"})
    stray = {"n": ["1", "2", "x"] * 10}
    assert compare(stray, stray).not_tested["n"].startswith("not tested: mixed types: 20 of 30")
    assert compare(stray, stray, kinds={"n": "categorical"})["n"].tested


def test_features_selection() -> None:
    rng = np.random.default_rng(6)
    ref = {"a": rng.normal(size=100), "b": rng.normal(size=100), "c": rng.normal(size=100)}
    report = compare(ref, {"a": ref["a"], "b": ref["b"]}, features=["b", "c"])
    assert sorted(f.feature for f in report.features) == ["b", "c"]
    assert report.not_tested == {"c": "not tested: column missing in current data"}
    with pytest.raises(InputError, match=r"features names \['zzz'\], which is in neither"):
        compare(ref, ref, features=["a", "zzz"])
    with pytest.raises(InputError, match="features must be a list of column names"):
        compare(ref, ref, features="a")  # type: ignore[arg-type]


def test_methods_and_thresholds() -> None:
    rng = np.random.default_rng(8)
    ref = {"x": rng.normal(size=600), "c": rng.choice(["a", "b", "c"], 600)}
    cur = {"x": rng.normal(0.1, 1, 600), "c": rng.choice(["a", "b", "c"], 600)}
    psi = compare(ref, cur, methods="psi")
    assert psi["x"].method == "psi" and psi["c"].method == "psi"
    assert psi["x"].decided_by == "effect_size"
    ks_only = compare(ref, cur, methods="ks")
    assert ks_only["x"].method == "ks" and ks_only["c"].method == "chi_square"
    mixed = compare(ref, cur, methods={"*": "hellinger", "x": "cramer_von_mises"})
    assert mixed["x"].method == "cramer_von_mises" and mixed["c"].method == "hellinger"
    strict = compare(ref, cur, thresholds={"*": 1e-12, "c": 0.9})
    assert strict["x"].threshold == 1e-12 and strict["c"].threshold == 0.9
    assert compare(ref, cur, thresholds=0.2)["x"].threshold == 0.2
    with pytest.raises(
        InputError, match="unknown method 'kss' for feature 'x': use one of auto, ks"
    ):
        compare(ref, cur, methods={"x": "kss"})
    with pytest.raises(ColumnError, match="method 'ks' does not apply to categorical features"):
        compare(ref, cur, methods={"c": "ks"})
    with pytest.raises(InputError, match="method 'chi_square' applies to none of the tested"):
        compare({"x": ref["x"]}, {"x": cur["x"]}, methods="chi_square")
    with pytest.raises(InputError, match=r"threshold for feature 'x' must be a finite number > 0"):
        compare(ref, cur, thresholds={"x": -1.0})
    with pytest.raises(InputError, match="threshold for all features must be a number, got 'a'"):
        compare(ref, cur, thresholds="a")  # type: ignore[arg-type]


def test_options() -> None:
    rng = np.random.default_rng(9)
    ref = {"x": rng.normal(size=300)}
    report = compare(ref, ref, options={"correction": "bonferroni", "alpha": 0.01})
    assert report.correction == "bonferroni" and report.alpha == 0.01
    assert report["x"].threshold == 0.01
    with pytest.raises(InputError, match=r"unknown drift option\(s\) \['alhpa'\]: use alpha"):
        compare(ref, ref, options={"alhpa": 0.1})
    with pytest.raises(InputError, match="unknown correction 'sidak'"):
        compare(ref, ref, options={"correction": "sidak"})
    with pytest.raises(
        InputError, match=r"options must be a keeneye\.stats\.DriftOptions or a dict"
    ):
        compare(ref, ref, options=0.05)  # type: ignore[arg-type]


def test_unreadable_inputs_raise_data_source_errors(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match=r"current file '.*nope\.csv' does not exist"):
        compare({"a": [1.0]}, tmp_path / "nope.csv")
    with pytest.raises(DataSourceError, match="cannot read the reference data from a int"):
        compare(3, {"a": [1.0]})


def test_summaries_can_be_skipped() -> None:
    ref = {"x": [1.0, 2.0, 3.0, 4.0]}
    assert compare(ref, ref, summaries=False).profiles == {}
    assert set(compare(ref, ref).profiles) == {"x"}


def test_keeneye_compare_is_lazy_and_the_function_whatever_is_imported_first() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import keeneye\n"
        "print('scipy' in sys.modules)\n"  # importing keeneye (e.g. for the SDK) stays light
        "from keeneye.compare import ALL_FEATURES\n"  # must not replace the function
        "print(keeneye.compare.__name__)\n"
        "print(keeneye.compare({'x': [1.0, 2.0, 3.0]}, {'x': [1.0, 2.0, 3.0]}).n_tested)\n"
        "from keeneye import DriftReport, compare\n"
        "print(isinstance(compare({'x': [1.0, 2.0]}, {'x': [1.0, 2.0]}), DriftReport))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "compare", "1", "True"]


def test_prediction_and_label_on_one_side_are_not_listed_as_untested_features() -> None:
    reference = {"x": [1.0, 2.0, 3.0, 4.0], "label": [0, 1, 0, 1]}
    current = {"x": [1.5, 2.5, 3.5, 4.5], "prediction": [0, 1, 1, 1], "y": [1, 2, 3, 4]}
    report = compare(reference, current)
    names = [f.feature for f in report.features]
    assert "label" not in names and "prediction" not in names
    assert report["y"].reason == "not tested: column missing in reference data"
    both = compare({**reference, "prediction": [0, 1, 0, 1]}, {**current, "label": [1, 1, 0, 1]})
    assert {"label", "prediction"} <= {f.feature for f in both.features}
