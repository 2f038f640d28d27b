"""A DuckDB file written by the previous layout (schema version 1) opens, migrates and reads
back every event, label, baseline, result and alert."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from tests.store import _duckdb_v1_layout as v1
from tests.store.conftest import T0

from keeneye.errors import StoreError
from keeneye.store import PredictionEvent
from keeneye.store.duckdb import DuckDBStore


def _write_v1_file(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")
    for statement in v1.CATALOG:
        con.execute(statement)
    con.execute("INSERT INTO keeneye_meta VALUES ('schema_version', '1')")
    con.execute("INSERT INTO models VALUES ('churn', 'events_1', ?)", [T0])
    con.execute(v1.events_table_ddl("events_1"))
    con.execute("ALTER TABLE events_1 ADD COLUMN f_1 DOUBLE")
    con.execute("ALTER TABLE events_1 ADD COLUMN f_2 VARCHAR")
    for name, column, kind in (
        ("age", "f_1", "numeric"),
        ("plan", "f_2", "categorical"),
        ("__prediction__", None, "numeric"),
        ("__label__", None, "numeric"),
    ):
        con.execute(
            "INSERT INTO features VALUES ('churn', ?, ?, ?, ?, NULL, 0, NULL)",
            [name, column, kind, T0],
        )
    for i in range(3):
        con.execute(
            "INSERT INTO events_1 (event_id, version, ts, received_at, prediction_num, f_1, f_2) "
            "VALUES (?, '1', ?, ?, ?, ?, ?)",
            [f"e{i}", T0 + timedelta(minutes=i), T0, 0.25 * i, 30.0 + i, ["a", "b", None][i]],
        )
        con.execute(
            "INSERT INTO version_features VALUES ('churn', '1', 'age'), ('churn', '1', 'plan') "
            "ON CONFLICT DO NOTHING"
        )
    con.execute(
        "INSERT INTO labels VALUES ('churn', 'e1', 1.0, NULL, NULL, '1', ?, ?, 0)",
        [T0 + timedelta(hours=2), T0 + timedelta(hours=2)],
    )
    con.execute(
        "INSERT INTO versions VALUES ('churn', '1', ?, 'models:/churn/1', NULL, NULL, NULL, '{}')",
        [T0],
    )
    con.execute("CREATE TABLE baseline_1 AS SELECT 41.0 AS age, 'pro' AS plan")
    con.execute("INSERT INTO baselines VALUES ('churn', '1', 'baseline_1', ?, 1)", [T0])
    con.execute(
        "INSERT INTO results VALUES ('churn', '1', 'summary', ?, ?, ?, '{\"rows\": 3}')",
        [T0, T0 + timedelta(hours=1), T0],
    )
    for kind, version in (("drift_window", "*"), ("baseline", "1")):
        con.execute(
            "INSERT INTO results VALUES ('churn', ?, ?, ?, ?, ?, '{\"window\": \"hourly\"}')",
            [version, kind, T0, T0 + timedelta(hours=1), T0],
        )
    con.execute(
        "INSERT INTO alerts (model, alert_at, payload) VALUES ('churn', ?, "
        '\'{"model": "churn", "rule": "drift", "status": "firing"}\')',
        [T0],
    )
    con.close()


def test_a_version_1_file_is_migrated_and_reads_everything(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    _write_v1_file(path)
    with DuckDBStore(path) as store:
        assert store.schema_version == 4
        data = store.read_window("churn", T0, T0 + timedelta(hours=1))
        assert data.events.column("event_id").to_pylist() == ["e0", "e1", "e2"]
        assert data.events.column("prediction").to_pylist() == [0.0, 0.25, 0.5]
        assert data.events.column("label").to_pylist() == [None, 1.0, None]
        assert data.features.column("age").to_pylist() == [30.0, 31.0, 32.0]
        assert data.features.column("plan").to_pylist() == ["a", "b", None]
        summary = store.model_summary("churn")
        assert (summary.events, summary.labels, summary.versions) == (3, 1, ("1",))
        assert store.versions("churn")[0].model_uri == "models:/churn/1"
        baseline = store.load_baseline("churn", "1")
        assert baseline is not None and baseline.to_pylist() == [{"age": 41.0, "plan": "pro"}]
        [result] = store.load_results("churn", kind="summary")
        assert result.payload == {"rows": 3}
        # Window markers and baseline records moved to tables of their own, still readable.
        kinds = [r.kind for r in store.load_results("churn")]
        assert sorted(kinds) == ["baseline", "drift_window", "summary"]
        [marker] = store.load_results("churn", kind="drift_window", version="*")
        assert marker.payload == {"window": "hourly"}
        assert len(store.load_results("churn", kind="baseline", version="1")) == 1
        assert store.list_alerts("churn") == [
            {"model": "churn", "rule": "drift", "status": "firing"}
        ]
        # What the migration added works on the old file, and new writes join old rows.
        store.save_reference("churn", "1", b"fitted")
        assert store.data_sources("churn", "1") == []
        assert store.claim("k", "me", 30)
        store.write_predictions(
            "churn",
            [
                PredictionEvent(
                    "e3", "1", T0 + timedelta(minutes=3), {"age": 33.0, "plan": "c"}, 0.75
                )
            ],
        )
    with DuckDBStore(path) as again:  # migrations run once: reopening changes nothing
        assert again.schema_version == 4
        assert again.load_reference("churn", "1") == b"fitted"
        window = again.read_window("churn", T0, T0 + timedelta(hours=1))
        assert window.features.column("age").to_pylist() == [30.0, 31.0, 32.0, 33.0]
        assert pa.types.is_float64(window.features.schema.field("age").type)
    con = duckdb.connect(str(path))
    tables = {
        table: con.execute(f"SELECT kind FROM {table}").fetchall()
        for table in ("results", "window_markers", "baseline_records")
    }
    con.close()
    assert tables == {
        "results": [("summary",)],
        "window_markers": [("drift_window",)],
        "baseline_records": [("baseline",)],
    }


def test_a_file_from_a_newer_keeneye_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.duckdb"
    DuckDBStore(path).close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE keeneye_meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="schema version 99, newer than this keeneye"):
        DuckDBStore(path)


def test_a_locked_file_names_url_and_postgresql(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "held.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, duckdb; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); "
            "sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        with pytest.raises(StoreError, match=r"in use by another process.*--url.*postgresql://"):
            DuckDBStore(path)
    finally:
        holder.kill()
        holder.wait()
