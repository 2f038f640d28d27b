"""Turning predict inputs/outputs into per-row events."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from keeneye.errors import InputError
from keeneye.sdk import records


def test_single_mapping_is_one_record_copied() -> None:
    src = {"age": 31, "plan": "pro"}
    rows, single = records.rows_from_inputs(src)
    assert (rows, single) == ([{"age": 31, "plan": "pro"}], True)
    rows[0]["age"] = 99
    assert src["age"] == 31


def test_list_of_records() -> None:
    rows, single = records.rows_from_inputs([{"a": 1}, {"a": 2, "b": "x"}])
    assert rows == [{"a": 1}, {"a": 2, "b": "x"}] and single is False


def test_pandas_dataframe_rows_use_columns_and_python_scalars() -> None:
    df = pd.DataFrame(
        {"age": np.array([31, 40], dtype=np.int64), "score": [0.5, np.nan], 7: ["a", "b"]}
    )
    rows, single = records.rows_from_inputs(df)
    assert single is False
    assert rows[0] == {"age": 31, "score": 0.5, "7": "a"}
    assert type(rows[0]["age"]) is int
    assert np.isnan(rows[1]["score"])


def test_pandas_series_is_one_record() -> None:
    rows, single = records.rows_from_inputs(pd.Series({"a": 1.5, "b": 2.5}))
    assert rows == [{"a": 1.5, "b": 2.5}] and single is True


def test_numpy_2d_with_and_without_feature_names() -> None:
    arr = np.arange(6, dtype=np.float64).reshape(3, 2)
    rows, single = records.rows_from_inputs(arr, feature_names=["u", "v"])
    assert rows == [{"u": 0.0, "v": 1.0}, {"u": 2.0, "v": 3.0}, {"u": 4.0, "v": 5.0}]
    assert single is False
    rows, _ = records.rows_from_inputs(arr)
    assert list(rows[0]) == ["x0", "x1"]


def test_numpy_1d_is_one_record() -> None:
    rows, single = records.rows_from_inputs(np.array([1.0, 2.0]), feature_names=["a", "b"])
    assert rows == [{"a": 1.0, "b": 2.0}] and single is True


def test_polars_and_arrow_tables() -> None:
    expected = [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    assert records.rows_from_inputs(pl.DataFrame({"a": [1, 2], "b": ["x", "y"]}))[0] == expected
    assert records.rows_from_inputs(pa.table({"a": [1, 2], "b": ["x", "y"]}))[0] == expected


def test_wrong_number_of_feature_names_names_the_fix() -> None:
    with pytest.raises(InputError, match="feature_names has 3 names but the input rows have 2"):
        records.rows_from_inputs(np.zeros((2, 2)), feature_names=["a", "b", "c"])


def test_ragged_rows_and_unsupported_types() -> None:
    with pytest.raises(InputError, match="row 1 has 1 values, expected 2"):
        records.rows_from_inputs([[1, 2], [3]], feature_names=["a", "b"])
    with pytest.raises(InputError, match="cannot read predict inputs of type int"):
        records.rows_from_inputs(5)
    with pytest.raises(InputError, match="3 dimensions"):
        records.rows_from_inputs(np.zeros((1, 2, 3)))
    with pytest.raises(InputError, match="record 1 is a int"):
        records.rows_from_inputs([{"a": 1}, 2])


def test_split_outputs() -> None:
    assert records.split_outputs(np.array([0.25]), 1, single=True) == [0.25]
    assert records.split_outputs(np.float32(0.5), 1, single=True) == [0.5]
    assert records.split_outputs("yes", 1, single=True) == ["yes"]
    assert records.split_outputs(np.array([[1], [0]]), 2, single=False) == [1, 0]
    assert records.split_outputs(pd.Series(["a", "b"]), 2, single=False) == ["a", "b"]
    with pytest.raises(InputError, match="predict returned a float for 2 input rows"):
        records.split_outputs(0.5, 2, single=False)


def test_split_probabilities_forms() -> None:
    arr = np.array([[0.1, 0.9], [0.6, 0.4]])
    assert records.split_probabilities(arr, 2) == [[0.1, 0.9], [0.6, 0.4]]
    assert records.split_probabilities(arr, 2, classes=np.array([0, 1])) == [
        {"0": 0.1, "1": 0.9},
        {"0": 0.6, "1": 0.4},
    ]
    df = pd.DataFrame(arr, columns=["no", "yes"])
    assert records.split_probabilities(df, 2)[1] == {"no": 0.6, "yes": 0.4}
    assert records.split_probabilities([{"a": np.float32(0.5)}], 1) == [{"a": 0.5}]
    with pytest.raises(InputError, match="2 probabilities for 3 classes"):
        records.split_probabilities(arr, 2, classes=["a", "b", "c"])
    with pytest.raises(InputError, match="probabilities have 2 rows for 3 input rows"):
        records.split_probabilities(arr, 3)


def test_confidence_ignores_non_finite() -> None:
    assert records.confidence([0.2, float("nan"), 0.7]) == 0.7
    assert records.confidence({"a": float("inf")}) is None


def test_sdk_import_does_not_import_pandas() -> None:
    code = "import keeneye.sdk, sys; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
