"""``open_store`` chooses the backend from its table of URL schemes."""

from __future__ import annotations

from pathlib import Path

import pytest

from keeneye.errors import ConfigError, StoreError
from keeneye.store import BACKENDS, EventStore, open_store
from keeneye.store.duckdb import DuckDBStore


@pytest.mark.parametrize("form", ["path", "url"])
def test_paths_and_duckdb_urls_open_the_same_file(tmp_path: Path, form: str) -> None:
    path = tmp_path / "sub" / "k.duckdb"
    store = open_store(path if form == "path" else f"duckdb://{path}")
    try:
        assert isinstance(store, DuckDBStore) and isinstance(store, EventStore)
        assert store.path == str(path) and path.exists()
    finally:
        store.close()


def test_unknown_scheme_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown store URL scheme 'mysql'.*duckdb://"):
        open_store("mysql://db/keeneye")
    assert "duckdb" in BACKENDS


def test_a_file_held_by_another_store_is_a_clear_error(tmp_path: Path) -> None:
    """DuckDB lets one process hold a file; inside one process a second connection works, so
    the error path is exercised with a path that cannot be a database file."""
    (tmp_path / "dir.duckdb").mkdir()
    with pytest.raises(StoreError, match="cannot open the DuckDB store"):
        open_store(tmp_path / "dir.duckdb")
