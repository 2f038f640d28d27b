"""keeneye compare as a CI gate on clean data: identifier-like columns are left untested by
default (and the report says so), and the headline, the rows and the exit code agree on the
corrected verdict."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from keeneye import compare
from keeneye.cli import app
from keeneye.identifiers import identifier_reason

runner = CliRunner()


def _table(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return pa.table(
        {
            "id": pa.array(np.arange(n), pa.int64()),
            "customer_uuid": [f"c-{i:08x}" for i in rng.permutation(n)],
            "created_at": pa.array([start + timedelta(minutes=i) for i in range(n)]),
            "age": rng.normal(40, 10, n),
            "income": rng.integers(20_000, 200_000, n),  # integers, unique-ish, not an id
            "plan": rng.choice(["basic", "pro", "team"], n, p=[0.5, 0.3, 0.2]),
            "visits": rng.poisson(3, n),
        }
    )


@pytest.fixture(scope="module")
def halves(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The first and the second half of one i.i.d. table (row ids and times run on)."""
    table = _table(4000, 3)
    out = tmp_path_factory.mktemp("ids")
    ref, cur = out / "ref.parquet", out / "cur.parquet"
    pq.write_table(table.slice(0, 2000), ref)
    pq.write_table(table.slice(2000), cur)
    return ref, cur


def test_iid_halves_with_an_id_column_pass_the_gate(halves: tuple[Path, Path]) -> None:
    ref, cur = halves
    result = runner.invoke(app, ["compare", str(ref), str(cur)])
    assert result.exit_code == 0, result.output
    headline = result.output.splitlines()[0]
    assert headline.startswith("no drift: 0 of 4 tested features drifted after holm correction")
    assert "identifier-like: created_at, customer_uuid, id" in headline
    as_json = runner.invoke(app, ["compare", str(ref), str(cur), "--format", "json"])
    assert as_json.exit_code == 0
    reasons = {f["feature"]: f["reason"] for f in json.loads(as_json.output)["features"]}
    assert reasons["id"].startswith("not tested: identifier-like column (named like an identifier")
    assert "unique per row" not in reasons["id"]
    assert reasons["created_at"] is not None and reasons["income"] is None
    # the same table tested with its identifiers fails, which is why they are left out
    with_ids = runner.invoke(app, ["compare", str(ref), str(cur), "--test-ids"])
    assert with_ids.exit_code == 1, with_ids.output
    assert with_ids.output.startswith("DRIFT DETECTED")


def test_named_features_are_tested_even_when_identifier_like(halves: tuple[Path, Path]) -> None:
    ref, cur = halves
    report = compare(ref, cur, features=["id", "age"])
    assert report["id"].drifted is True  # asked for: tested
    assert report.n_tested == 2


def test_identifier_rules() -> None:
    def col(values: list[object] | np.ndarray) -> pa.ChunkedArray:
        return pa.chunked_array([pa.array(values)])

    ids = np.arange(100)
    assert identifier_reason("userId", col(ids), col(ids + 100)) is not None
    assert identifier_reason("order-id", col(ids), col(ids + 100)) is not None
    assert identifier_reason("updated_at", col([1.0]), col([2.0])) == (
        "named like a timestamp ('updated_at')"
    )
    # unique per row and disjoint across the inputs: row ids, whatever the name
    assert "unique per row" in str(identifier_reason("ref", col(ids), col(ids + 100)))
    strings = [f"k{i}" for i in range(60)]
    assert identifier_reason("code", col(strings[:30]), col(strings[30:])) is not None
    # overlapping values, repeated values, floats, too few rows: features
    assert identifier_reason("amount", col(ids), col(ids + 50)) is None
    assert identifier_reason("amount", col(ids % 7), col(ids % 7 + 100)) is None
    assert identifier_reason("score", col(ids * 0.5), col(ids * 0.5 + 100)) is None
    assert identifier_reason("few", col(ids[:10]), col(ids[:10] + 100)) is None
    assert identifier_reason("android", col(ids % 3), col(ids % 3)) is None  # no "id" suffix
    when = pa.chunked_array([pa.array([datetime(2026, 1, 1)] * 3)])
    assert identifier_reason("moment", when, when) is None  # a datetime column: its own reason


HEADLINE = re.compile(r"^(no drift|DRIFT DETECTED): (\d+) of (\d+) tested features drifted")


def test_headline_rows_and_exit_code_agree(tmp_path: Path) -> None:
    """Nine KS tests with Bonferroni on small i.i.d. samples: some features pass the
    uncorrected level but not the corrected one; the rows, the headline count and the exit
    code all follow the corrected verdict."""
    rng = np.random.default_rng(0)
    disagreements = 0
    for seed in range(12):
        rng = np.random.default_rng(seed)
        ref = {f"x{i}": rng.normal(size=80) for i in range(9)}
        cur = {
            f"x{i}": rng.normal(0.35 if seed % 4 == 0 and i == 0 else 0, 1, 60) for i in range(9)
        }
        pq.write_table(pa.table(ref), tmp_path / "r.parquet")
        pq.write_table(pa.table(cur), tmp_path / "c.parquet")
        args = ["compare", str(tmp_path / "r.parquet"), str(tmp_path / "c.parquet")]
        result = runner.invoke(app, [*args, "--method", "ks", "--correction", "bonferroni"])
        assert result.exit_code in (0, 1), result.output
        match = HEADLINE.match(result.output)
        assert match, result.output
        rows = [line for line in result.output.splitlines() if re.search(r"\bDRIFT\b", line)][0:]
        drift_rows = [line for line in rows if not line.startswith(("DRIFT DETECTED", "no drift"))]
        assert int(match.group(2)) == len(drift_rows)
        assert (match.group(1) == "DRIFT DETECTED") == (result.exit_code == 1)
        assert (result.exit_code == 1) == (len(drift_rows) > 0)
        report = compare(ref, cur, methods="ks", options={"correction": "bonferroni"})
        disagreements += sum(1 for f in report.features if f.drifted and not f.drifted_adjusted)
    assert disagreements > 0  # the scenario has rows where the two verdicts differ
