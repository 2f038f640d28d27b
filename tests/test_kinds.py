"""The table of feature kinds covers every kind, and each decision point answers from it."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from keeneye import compare
from keeneye.errors import InputError
from keeneye.identifiers import identifier_reason
from keeneye.kinds import KINDS, drift_kinds, ingest_types, kind_of_family, markdown_table, spec
from keeneye.schema import FeatureKind
from keeneye.stats import ReferenceProfile
from keeneye.stats.methods import METHODS, DriftMethod, register_method, unregister_method
from keeneye.stats.results import TestResult
from keeneye.stats.summary import ColumnSummary, summarize
from keeneye.store._values import value_type
from keeneye.tables import as_kind, infer_kind, type_family

DOCS = Path(__file__).resolve().parents[1] / "docs" / "statistics.md"

_SAMPLES: dict[str, pa.Array] = {
    "int": pa.array([1, 2, 3]),
    "float": pa.array([1.5, 2.5, None]),
    "decimal": pa.array([Decimal("1.5")]),
    "bool": pa.array([True, False]),
    "string": pa.array(["a", "b", "a"]),
    "timestamp": pa.array([datetime(2024, 1, 1)]),
    "date": pa.array([date(2024, 1, 1)]),
    "list": pa.array([[1.0, 2.0]]),
    "binary": pa.array([b"x"]),
}


def test_the_table_covers_every_kind_and_only_kinds() -> None:
    assert list(KINDS) == list(FeatureKind)
    assert {"identifier", "datetime"} <= {k.value for k in KINDS}
    assert FeatureKind.TIMESTAMP is FeatureKind.DATETIME
    for kind, entry in KINDS.items():
        assert entry.kind is kind
        assert entry.description and entry.conversion
        if entry.testable:
            assert entry.arrow_type is not None and entry.summary is not None
            assert entry.untested is None and entry.implemented
        else:
            assert entry.untested and entry.methods == () and entry.drift is None


def test_text_image_and_embedding_kinds_are_tested_through_their_own_columns() -> None:
    for kind in (FeatureKind.TEXT, FeatureKind.IMAGE, FeatureKind.EMBEDDING):
        entry = KINDS[kind]
        assert entry.implemented and entry.summaries == () and entry.methods == ()
        assert entry.untested and kind.value in entry.untested
        # the univariate engine still refuses the raw column, with that reason
        profile = ReferenceProfile.fit({"c": ["a", "b"]}, kinds={"c": kind})
        assert profile.column("c").reason == entry.untested  # type: ignore[union-attr]
    report = compare(
        {"c": ["a long text here", "b"] * 30},
        {"c": ["a long text here", "b"] * 30},
        kinds={"c": FeatureKind.TEXT},
    )
    assert {"c.chars", "c.tokens", "c.oov", "c.top_tokens"} <= {f.feature for f in report.features}


def test_a_kinds_methods_are_the_methods_table_entries_accepting_it() -> None:
    for kind, entry in KINDS.items():
        expected = tuple(m.name for m in METHODS.values() if kind in m.kinds)
        assert entry.methods == expected, kind
        assert bool(expected) == entry.testable == kind.testable
    assert drift_kinds("numeric") == {FeatureKind.NUMERIC}
    assert drift_kinds("categorical") == {FeatureKind.CATEGORICAL, FeatureKind.BOOLEAN}


def test_a_registered_method_joins_the_kinds_it_accepts() -> None:
    def fn(reference: object, current: object) -> TestResult:
        return TestResult("kinds_probe", 0.0, None, 1, 1)

    register_method(DriftMethod("kinds_probe", "distance", 0.2, categorical=fn))
    try:
        assert "kinds_probe" in KINDS[FeatureKind.BOOLEAN].methods
        assert "kinds_probe" in KINDS[FeatureKind.CATEGORICAL].methods
        assert "kinds_probe" not in KINDS[FeatureKind.NUMERIC].methods
    finally:
        unregister_method("kinds_probe")
    assert "kinds_probe" not in KINDS[FeatureKind.BOOLEAN].methods


def test_ingest_types_raw_values_from_the_table() -> None:
    table = ingest_types()
    for entry in KINDS.values():
        for python_type in entry.python_types:
            assert table[python_type] == entry.ingest
    samples = {int: 3, float: 2.5, str: "pro", bool: True}
    for python_type, value in samples.items():
        assert value_type(value) == table[python_type]
    assert value_type(True) == KINDS[FeatureKind.BOOLEAN].ingest != value_type(1)
    assert value_type(np.bool_(True)) == "boolean" and value_type(np.float32(1)) == "numeric"
    assert value_type([1.0, 2.0]) == "unsupported" and value_type(None) is None
    kinds_typed_at_ingest = {e.kind for e in KINDS.values() if e.ingest is not None}
    assert kinds_typed_at_ingest == set(drift_kinds("numeric") | drift_kinds("categorical"))


@pytest.mark.parametrize("name", sorted(_SAMPLES))
def test_infer_kind_answers_from_the_type_families_of_the_table(name: str) -> None:
    array = _SAMPLES[name]
    expected = kind_of_family(type_family(array.type))
    guess = infer_kind(array)
    assert guess.kind is expected, (name, guess)
    if expected is not None and not KINDS[expected].testable:
        assert guess.untested is not None


@pytest.mark.parametrize("kind", [k for k in FeatureKind if KINDS[k].testable])
def test_as_kind_converts_to_the_tables_arrow_type(kind: FeatureKind) -> None:
    entry = KINDS[kind]
    for name, array in _SAMPLES.items():
        column = pa.chunked_array([array])
        cast = as_kind(column, kind)
        if type_family(array.type) not in entry.cast_from:
            assert cast == f"a {array.type} column cannot be tested as {kind.value}", name
        elif not isinstance(cast, str):
            assert cast.type == entry.arrow_type, name


def test_summaries_follow_the_table() -> None:
    samples: dict[FeatureKind, list[object]] = {
        FeatureKind.NUMERIC: [1.0, 2.0, 3.0],
        FeatureKind.CATEGORICAL: ["a", "b", "a"],
        FeatureKind.BOOLEAN: [True, False, True],
    }
    fields = {f.name: f for f in dataclasses.fields(ColumnSummary)}
    empty = ColumnSummary(FeatureKind.NUMERIC, 0, 0, 0, 0, 0, 0, 0)
    for kind, values in samples.items():
        summary = summarize(values, kind)
        assert summary.kind is kind
        assert set(KINDS[kind].summaries) <= set(fields)
        # the fields the table names are filled in; the other family's stay empty
        for name in KINDS[kind].summaries:
            if name not in ("missing", "nan", "pos_inf", "neg_inf", "wrong_type"):
                assert getattr(summary, name) != getattr(empty, name), (kind, name)
        for name in set(fields) - set(KINDS[kind].summaries) - {"kind", "types"}:
            assert getattr(summary, name) == getattr(empty, name), (kind, name)


def test_identifier_detection_reads_the_names_of_the_table() -> None:
    values = pa.chunked_array([[1, 2]])
    for name in KINDS[FeatureKind.IDENTIFIER].names:
        assert identifier_reason(name, values, values) == f"named like an identifier ({name!r})"
    for suffix in KINDS[FeatureKind.IDENTIFIER].suffixes:
        assert identifier_reason(f"order_{suffix}", values, values) is not None
    for name in KINDS[FeatureKind.TIMESTAMP].names:
        assert identifier_reason(name, values, values) == f"named like a timestamp ({name!r})"
    for suffix in KINDS[FeatureKind.TIMESTAMP].suffixes:
        assert identifier_reason(f"created_{suffix}", values, values) is not None
    assert identifier_reason("customerId", values, values) is not None
    assert identifier_reason("age", values, values) is None


def test_an_identifier_kind_set_by_hand_is_left_untested_with_its_reason() -> None:
    report = compare({"c": [1, 2, 3] * 10}, {"c": [1, 2, 3] * 10}, kinds={"c": "identifier"})
    assert report.not_tested["c"] == f"not tested: {KINDS[FeatureKind.IDENTIFIER].untested}"


def test_spec_names_the_kind_and_the_fix() -> None:
    assert spec("boolean") is KINDS[FeatureKind.BOOLEAN]
    with pytest.raises(InputError, match="unknown feature kind 'ordinal': use one of numeric"):
        spec("ordinal")


def test_the_docs_hold_the_table() -> None:
    assert markdown_table() in DOCS.read_text(encoding="utf-8"), (
        "regenerate the kinds table with keeneye.kinds.markdown_table()"
    )


def test_numeric_is_the_tables_answer() -> None:
    from keeneye.kinds import numeric, numeric_family

    for kind, entry in KINDS.items():
        assert numeric(kind) is (entry.summary == "numeric")
        assert numeric(kind.value) is numeric(kind)
    assert numeric(None) is False
    for dtype, expected in [
        (pa.float32(), True),
        (pa.int8(), True),
        (pa.decimal128(5, 2), True),
        (pa.null(), True),
        (pa.bool_(), False),
        (pa.string(), False),
        (pa.timestamp("us"), False),
    ]:
        assert numeric_family(type_family(dtype)) is expected, dtype
