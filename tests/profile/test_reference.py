"""The fitted Reference: one pipeline for keeneye.compare and the window jobs, a versioned
binary form that round-trips, and the store keeps it."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats
from tests.conftest import Backend

import keeneye
from keeneye.baseline.fitted import load_reference
from keeneye.baseline.register import register_baseline
from keeneye.errors import InputError
from keeneye.profile.reference import REFERENCE_FORMAT, Reference
from keeneye.store import open_store


def tables(seed: int = 1) -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(seed)
    ref = pa.table(
        {
            "age": rng.normal(40, 10, 1000),
            "plan": rng.choice(["basic", "pro", "team"], 1000),
            "active": rng.choice([True, False], 1000),
            "constant": np.full(1000, 3.0),
            "empty": pa.nulls(1000, pa.float64()),
        }
    )
    cur = pa.table(
        {
            "age": rng.normal(43, 10, 400),
            "plan": rng.choice(["basic", "pro", "new"], 400),
            "active": rng.choice([True, False], 400),
            "constant": np.full(400, 3.0),
            "empty": rng.normal(0, 1, 400),
        }
    )
    return ref, cur


def test_binary_form_round_trips_and_compares_identically() -> None:
    ref, cur = tables()
    fitted = Reference.fit(ref)
    data = fitted.to_bytes()
    loaded = Reference.from_bytes(data)
    assert loaded == fitted
    assert loaded.to_bytes() == data
    assert loaded.compare(cur) == fitted.compare(cur)
    assert loaded.summaries == fitted.summaries


def test_keeneye_compare_is_reference_compare() -> None:
    ref, cur = tables(2)
    via_compare = keeneye.compare(ref, cur)
    direct = Reference.fit(ref).compare(cur)
    assert via_compare.report == direct


def test_ks_of_the_core_matches_scipy() -> None:
    ref, cur = tables(3)
    row = Reference.fit(ref).compare(cur).drift["age"]  # type: ignore[union-attr]
    expected = stats.ks_2samp(ref.column("age").to_numpy(), cur.column("age").to_numpy())
    assert row.method == "ks"
    assert row.statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert row.p_value == pytest.approx(expected.pvalue, rel=1e-9)


def test_a_newer_binary_format_is_refused_with_the_fix() -> None:
    fitted = Reference.fit(tables()[0])
    header = fitted._header({}, "")
    header["format"] = REFERENCE_FORMAT + 1
    with pytest.raises(InputError, match="register the baseline again"):
        Reference._from_header(header, {})


def test_registration_stores_the_fitted_reference(backend: Backend, tmp_path: Path) -> None:
    ref, cur = tables(4)
    location = backend.location(tmp_path)
    with closing(open_store(location)) as store:
        info = register_baseline(store, "churn", "1", ref)
        data = store.load_reference("churn", "1")
        assert data is not None
        stored = Reference.from_bytes(data)
        assert stored.digest == info.digest
        assert store.load_reference("churn", "2") is None
        assert load_reference(store, "churn", "1", info.digest) == stored
        # a re-registered baseline (another digest) is fitted again and saved
        info2 = register_baseline(store, "churn", "1", cur)
        assert Reference.from_bytes(store.load_reference("churn", "1") or b"").digest == (
            info2.digest
        )
    # the table is created idempotently and survives a reopen
    with closing(open_store(location)) as store:
        assert store.load_reference("churn", "1") is not None
