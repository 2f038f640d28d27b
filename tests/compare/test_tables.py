"""Input adapters and kind inference of ``keeneye.tables``."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from keeneye.errors import DataSourceError, InputError
from keeneye.schema import FeatureKind
from keeneye.tables import (
    TEXT_MIN_DISTINCT,
    as_kind,
    infer_kind,
    load_table,
    parse_kind,
    to_numpy,
)


def _frame(seed: int = 0, n: int = 200) -> dict[str, list[object]]:
    rng = np.random.default_rng(seed)
    return {
        "x": [float(v) for v in rng.normal(size=n)],
        "k": [int(v) for v in rng.integers(0, 5, size=n)],
        "city": [str(v) for v in rng.choice(["Oslo", "Rome", "Lima"], size=n)],
        "flag": [bool(v) for v in rng.integers(0, 2, size=n)],
    }


def _sources(tmp_path: Path, data: dict[str, list[object]]) -> dict[str, object]:
    table = pa.table(data)
    pq.write_table(table, tmp_path / "t.parquet")
    pq.write_table(table, tmp_path / "t.pq")
    pcsv.write_csv(table, tmp_path / "t.csv")
    with gzip.open(tmp_path / "t.csv.gz", "wb") as handle:
        handle.write((tmp_path / "t.csv").read_bytes())
    return {
        "dict of lists": data,
        "dict of numpy": {k: np.asarray(v) for k, v in data.items()},
        "pyarrow.Table": table,
        "pyarrow.RecordBatch": table.to_batches()[0],
        "pandas": pd.DataFrame(data),
        "polars": pl.DataFrame(data),
        "parquet str": str(tmp_path / "t.parquet"),
        "pq Path": tmp_path / "t.pq",
        "csv": tmp_path / "t.csv",
        "csv.gz": str(tmp_path / "t.csv.gz"),
    }


def test_every_accepted_input_gives_the_same_columns(tmp_path: Path) -> None:
    data = _frame()
    for label, source in _sources(tmp_path, data).items():
        loaded = load_table(source, role="reference")
        assert loaded.columns == ("x", "k", "city", "flag"), label
        assert loaded.num_rows == 200, label
        assert not loaded.unconvertible, label
        for name, values in data.items():
            column = loaded.table.column(name)
            kind = infer_kind(column).kind
            assert kind is not None, label
            cast = as_kind(column, kind)
            assert not isinstance(cast, str), label
            assert to_numpy(cast).tolist() == pytest.approx(
                to_numpy(as_kind(pa.chunked_array([pa.array(values)]), kind)).tolist()
            ), (label, name)


def test_kinds_inferred_from_arrow_types() -> None:
    n = 300
    rng = np.random.default_rng(1)
    table = pa.table(
        {
            "float": rng.normal(size=n),
            "int": rng.integers(0, 9, size=n),
            "bool": rng.integers(0, 2, size=n).astype(bool),
            "cat": rng.choice(["a", "b", "c"], size=n),
            "dict": pa.array(rng.choice(["a", "b"], size=n)).dictionary_encode(),
            "codes": pa.array(rng.integers(0, 4, size=n)).dictionary_encode(),
            "ids": [f"user-{i}" for i in range(n)],
            "prose": ["word " * 20 + str(i % 3) for i in range(n)],
            "when": pa.array(np.arange(n).astype("datetime64[s]")),
            "vec": [[1.0, 2.0]] * n,
            "empty": pa.nulls(n),
        }
    )
    kinds = {name: infer_kind(table.column(name)) for name in table.column_names}
    assert kinds["float"].kind is FeatureKind.NUMERIC and kinds["float"].untested is None
    assert kinds["int"].kind is FeatureKind.NUMERIC
    assert kinds["bool"].kind is FeatureKind.BOOLEAN
    assert kinds["cat"].kind is FeatureKind.CATEGORICAL
    assert kinds["dict"].kind is FeatureKind.CATEGORICAL
    assert kinds["codes"].kind is FeatureKind.CATEGORICAL
    assert kinds["ids"].kind is FeatureKind.TEXT
    assert (
        kinds["ids"].untested is not None and "identifiers (300 distinct" in kinds["ids"].untested
    )
    assert kinds["prose"].kind is FeatureKind.TEXT
    assert kinds["prose"].untested is not None and "characters long" in kinds["prose"].untested
    assert kinds["when"].kind is FeatureKind.DATETIME
    assert kinds["when"].untested is not None and "not tested" in kinds["when"].untested
    assert (
        kinds["vec"].kind is None and kinds["vec"].untested == "unsupported type list<item: double>"
    )
    assert kinds["empty"].untested == "every value is missing"


def test_few_distinct_strings_stay_categorical_even_when_rows_are_few() -> None:
    values = [f"v{i}" for i in range(TEXT_MIN_DISTINCT)]  # all distinct, but not "many"
    assert infer_kind(pa.array(values)).kind is FeatureKind.CATEGORICAL


def test_numbers_with_a_stray_string_are_mixed_types() -> None:
    guess = infer_kind(pa.array(["1", "2.5", "-3e2", "cat", None, "4"]))
    assert guess.kind is None
    assert guess.untested is not None
    assert guess.untested.startswith("mixed types: 4 of 5 values are numbers but 1 are not")
    assert "'cat'" in guess.untested


def test_pandas_object_column_with_mixed_types_is_kept_and_described() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "m": pd.Series([1, 2, "cat"], dtype=object)})
    loaded = load_table(frame, role="current")
    assert loaded.columns == ("x", "m")
    assert loaded.table.column_names == ["x"]
    assert loaded.unconvertible == {"m": "mixed types: 2 int, 1 str (e.g. 'cat')"}
    assert loaded.raw["m"].tolist() == [1, 2, "cat"]
    assert loaded.num_rows == 3


def test_dict_with_mixed_list_is_described() -> None:
    loaded = load_table({"m": [1.5, "x", None, 2.5]}, role="reference")
    assert loaded.unconvertible["m"] == "mixed types: 2 float, 1 str (e.g. 'x')"
    assert loaded.num_rows == 4


def test_unstorable_values_are_described_not_raised() -> None:
    loaded = load_table({"big": [2**70, 1], "ok": [1, 2]}, role="current")
    assert loaded.table.column_names == ["ok"]
    assert loaded.unconvertible["big"].startswith("values cannot be stored as one column (int): ")
    objects = load_table({"o": [object(), object()]}).unconvertible["o"]
    assert objects.startswith("values cannot be stored as one column (object): Could not convert")
    with pytest.raises(DataSourceError, match=r"column 'm' has shape \(3, 2\): pass one value"):
        load_table({"m": np.zeros((3, 2))}, role="current")


def test_csv_reads_empty_cells_as_missing(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("city,n\nOslo,1\n,2\nRome,\n")
    table = load_table(path).table
    assert table.column("city").to_pylist() == ["Oslo", None, "Rome"]
    assert table.column("n").to_pylist() == [1, 2, None]


def test_as_kind_overrides() -> None:
    ints = pa.chunked_array([[1, 0, None]])
    assert as_kind(ints, FeatureKind.CATEGORICAL).to_pylist() == ["1", "0", None]  # type: ignore[union-attr]
    assert as_kind(ints, FeatureKind.BOOLEAN).to_pylist() == [True, False, None]  # type: ignore[union-attr]
    numbers = pa.chunked_array([[" 1.5", "2", None]])
    assert as_kind(numbers, FeatureKind.NUMERIC).to_pylist() == [1.5, 2.0, None]  # type: ignore[union-attr]
    assert as_kind(pa.chunked_array([["yes", "no"]]), FeatureKind.BOOLEAN) == (
        "values of a string column are not all true/false (or 1/0)"
    )
    assert as_kind(ints, FeatureKind.TEXT) == (
        "text columns are tested through their descriptors (keeneye.profile.modal)"
    )
    assert as_kind(pa.chunked_array([[[1]]]), FeatureKind.NUMERIC) == (
        "a list<item: int64> column cannot be tested as numeric"
    )
    assert as_kind(pa.chunked_array([pa.nulls(2)]), FeatureKind.NUMERIC).type == pa.float64()  # type: ignore[union-attr]


def test_to_numpy_keeps_missing_as_none_for_categories_and_nan_for_numbers() -> None:
    numbers = to_numpy(pa.chunked_array([[1.0, None, float("nan")]]))
    assert numbers.dtype == np.float64 and np.isnan(numbers[1:]).all()
    strings = to_numpy(pa.chunked_array([["a", None]]))
    assert strings.dtype == object and strings.tolist() == ["a", None]


def test_parse_kind_rejects_unknown_kinds() -> None:
    assert parse_kind("a", FeatureKind.TEXT) is FeatureKind.TEXT
    assert parse_kind("a", " Boolean ") is FeatureKind.BOOLEAN
    with pytest.raises(
        InputError, match=r"unknown kind 'nominal' for column 'a': use one of numeric"
    ):
        parse_kind("a", "nominal")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match=r"reference file '.*nope\.parquet' does not exist"):
        load_table(tmp_path / "nope.parquet", role="reference")


def test_unreadable_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"this is not parquet at all")
    with pytest.raises(
        DataSourceError, match=r"cannot read current file '.*broken\.parquet' as Parquet"
    ):
        load_table(broken, role="current")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(DataSourceError, match=r"cannot read current file '.*ragged\.csv' as CSV"):
        load_table(ragged, role="current")
    unknown = tmp_path / "data.xlsx"
    unknown.write_bytes(b"PK")
    with pytest.raises(DataSourceError, match=r"unknown file type; keeneye reads \.parquet, \.pq"):
        load_table(unknown, role="current")
    with pytest.raises(DataSourceError, match="is a directory"):
        load_table(tmp_path, role="current")


def test_unknown_objects_and_bad_dicts() -> None:
    with pytest.raises(
        DataSourceError, match=r"cannot read the reference data from a list: pass a pandas"
    ):
        load_table([1, 2, 3], role="reference")
    with pytest.raises(DataSourceError, match=r"columns have different lengths \{'a': 2, 'b': 3\}"):
        load_table({"a": [1, 2], "b": [1, 2, 3]}, role="current")
    with pytest.raises(DataSourceError, match=r"column 'a' is a int, not a sequence of values"):
        load_table({"a": 5}, role="current")
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(DataSourceError, match=r"duplicate column names \['a'\]"):
        load_table(frame, role="current")


def test_pandas_and_polars_are_not_imported_by_keeneye() -> None:
    import subprocess
    import sys

    # (pyarrow itself may import pandas lazily when converting lists; importing keeneye must not)
    code = "import sys, keeneye.tables\nprint('pandas' in sys.modules, 'polars' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


@pytest.mark.parametrize("rows", [10, 300_000])  # the larger frame is checked on threads
def test_pandas_frames_read_as_from_pandas_reads_them(rows: int) -> None:
    """Float columns without NaN are taken without pyarrow's NaN scan: the same table."""
    rng = np.random.default_rng(5)
    with_nan = rng.normal(size=rows)
    with_nan[::7] = np.nan
    with_inf = rng.normal(size=rows)
    with_inf[1] = np.inf
    frame = pd.DataFrame(
        {
            "plain": rng.normal(size=rows),
            "nan": with_nan,
            "inf": with_inf,
            "f32": rng.normal(size=rows).astype(np.float32),
            "int": rng.integers(0, 9, rows),
            7: rng.normal(size=rows),
            "text": pd.Series(rng.choice(["a", "b", None], rows), dtype="str"),
        }
    )
    loaded = load_table(frame, role="reference").table
    expected = pa.Table.from_pandas(frame.rename(columns=str), preserve_index=False)
    assert loaded.equals(expected.replace_schema_metadata(None))
    assert loaded.column("nan").null_count == len(with_nan[::7])
