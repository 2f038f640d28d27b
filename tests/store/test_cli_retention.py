"""``keeneye retention`` deletes old raw events from a store and says how many."""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import Backend
from typer.testing import CliRunner

from keeneye.cli import app
from keeneye.store import PredictionEvent, StoredResult, open_store


def test_retention_deletes_old_events_and_keeps_results(backend: Backend, tmp_path: Path) -> None:
    path = backend.location(tmp_path)
    now = datetime.now(UTC)
    with closing(open_store(path)) as store:
        store.write_predictions(
            "m",
            [
                PredictionEvent(f"e{d}", "1", now - timedelta(days=d), {"x": 1.0}, 0)
                for d in range(10)
            ],
        )
        store.save_results(
            [StoredResult("m", "1", "summary", now - timedelta(days=9), now, now, {"n": 10})]
        )
    runner = CliRunner()
    missing = runner.invoke(app, ["retention", "--store", path])
    assert missing.exit_code == 2 and "--days N or set server.retention_days" in missing.output
    done = runner.invoke(app, ["retention", "--store", path, "--days", "4.5", "--batch-size", "2"])
    assert done.exit_code == 0, done.output
    assert "deleted 5 event(s) older than" in done.output
    with closing(open_store(path)) as store:
        assert store.model_summary("m").events == 5
        assert len(store.load_results("m")) == 1
