"""Seeded Hypothesis properties: whatever the columns hold, ``compare`` answers, never crashes."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from keeneye import compare

# The whole finite float range (±1.8e308): the statistics must not overflow.
_floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([math.nan, math.inf, -math.inf]),
)
_values = st.one_of(
    st.none(),
    _floats,
    st.integers(min_value=-(2**53), max_value=2**53),
    st.booleans(),
    st.text(max_size=5),
)
_column = st.lists(_values, min_size=0, max_size=30)
_uniform_column = st.one_of(
    st.lists(st.one_of(st.none(), _floats)),
    st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c"]))),
    st.lists(st.one_of(st.none(), st.booleans())),
    st.lists(st.integers(min_value=-5, max_value=5)),
)


def _frame(columns: dict[str, list[object]], rows: int, as_pandas: bool) -> object:
    data = {name: (values * rows)[:rows] for name, values in columns.items()}
    if not as_pandas:
        return data
    return pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in data.items()})


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    reference=st.dictionaries(st.sampled_from("abcde"), st.one_of(_column, _uniform_column)),
    current=st.dictionaries(st.sampled_from("abcde"), st.one_of(_column, _uniform_column)),
    rows=st.integers(min_value=0, max_value=40),
    as_pandas=st.booleans(),
)
def test_any_columns_give_a_report_with_a_verdict_or_a_reason(
    reference: dict[str, list[object]],
    current: dict[str, list[object]],
    rows: int,
    as_pandas: bool,
) -> None:
    ref_columns = {k: v for k, v in reference.items() if v}
    cur_columns = {k: v for k, v in current.items() if v}
    report = compare(_frame(ref_columns, rows, as_pandas), _frame(cur_columns, rows, as_pandas))
    assert {f.feature for f in report.features} == set(ref_columns) | set(cur_columns)
    for result in report.features:
        if result.drifted is None:
            assert result.reason is not None and result.reason.startswith("not tested: ")
        else:
            assert result.reason is None
            for number in (result.statistic, result.p_value, result.effect_size):
                assert number is None or math.isfinite(number)
            assert result.p_value is None or 0.0 <= result.p_value <= 1.0
    assert 0.0 <= report.drift_share <= 1.0
    data = report.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert str(report).startswith(("DRIFT DETECTED", "no drift"))
    assert report.to_arrow().num_rows == len(report.features)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_row_order_does_not_change_the_report(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    ref = {"x": rng.normal(size=n), "c": rng.choice(["a", "b", "c"], n)}
    cur = {"x": rng.normal(0.2, 1, n), "c": rng.choice(["a", "b", "c"], n)}
    order = rng.permutation(n)
    shuffled = {name: values[order] for name, values in cur.items()}
    assert (
        compare(ref, cur, summaries=False).features
        == compare(ref, shuffled, summaries=False).features
    )
