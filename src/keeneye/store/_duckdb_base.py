"""Plumbing shared by the parts of the DuckDB store: connection, transactions, reader cursors
and the writer's in-memory view of each model."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from keeneye.clock import ClockLike, as_clock
from keeneye.errors import InputError, NotFoundError, StoreError
from keeneye.store._batch import FeatureState, utc
from keeneye.store._duckdb_schema import (
    CATALOG,
    MIGRATIONS,
    SCHEMA_VERSION,
    events_table_ddl,
)
from keeneye.store._group_commit import GroupCommit


@dataclass
class _Model:
    """What the writer knows about one model (kept in memory, reloaded after a failed write)."""

    table: str
    states: dict[str, FeatureState] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    version_features: set[tuple[str, str]] = field(default_factory=set)
    versions: set[str] = field(default_factory=set)
    #: Bumped whenever ``states``/``columns``/``version_features`` are replaced.
    generation: int = 0
    #: The events table's columns in their order (read back after a column is added).
    layout: tuple[str, ...] | None = None


class _DuckDBBase:
    """Connection, locks, transactions and the catalog cache (see :class:`DuckDBStore`)."""

    def __init__(
        self, path: str | Path, *, clock: ClockLike | None = None, type_change_after: int = 100
    ) -> None:
        if type_change_after < 1:
            raise InputError(f"type_change_after must be >= 1, got {type_change_after}")
        self.path = str(path)
        self._clock = as_clock(clock)
        self._type_change_after = type_change_after
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._con = self._connect()
        self._write_lock = threading.RLock()
        #: Batches of concurrent requests that share one transaction (``write_predictions``).
        self._group: GroupCommit[Any, Any] = GroupCommit()
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._cursors_lock = threading.Lock()
        self._epoch = 0  # bumped when the file is reopened: thread-local cursors are stale
        self._models: dict[str, _Model] = {}
        self._schemas: dict[tuple[str, str], frozenset[str] | None] = {}
        # Committed model → events table names, as readers found them (models are never
        # removed or renamed, so a name once read stays right; unknown models are not cached).
        self._tables: dict[str, str] = {}
        self._closed = False
        #: Why the connection is unusable (DuckDB invalidated the database after a fatal
        #: error, e.g. a checkpoint on a full disk); the next use reopens the file.
        self._broken: str | None = None
        self.schema_version = self._migrate()

    def _migrate(self) -> int:
        """Create the first layout where missing, then apply the migrations a file lacks."""
        with self._transaction() as con:
            for statement in CATALOG:
                con.execute(statement)
            con.execute("INSERT OR IGNORE INTO keeneye_meta VALUES ('schema_version', '1')")
            row = con.execute(
                "SELECT value FROM keeneye_meta WHERE key = 'schema_version'"
            ).fetchall()
            current = int(row[0][0])
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"the DuckDB store {self.path!r} has schema version {current}, newer than "
                    f"this keeneye ({SCHEMA_VERSION}): upgrade keeneye"
                )
            for number in sorted(n for n in MIGRATIONS if n > current):
                for statement in MIGRATIONS[number]:
                    con.execute(statement)
                con.execute(
                    "UPDATE keeneye_meta SET value = ? WHERE key = 'schema_version'", [str(number)]
                )
                current = number
        return current

    # -- plumbing -----------------------------------------------------------------------------
    def _now(self) -> datetime:
        return utc(self._clock.now(), "the store clock's time")

    def _connect(self) -> duckdb.DuckDBPyConnection:
        try:
            con = duckdb.connect(self.path)
            con.execute("SET TimeZone = 'UTC'")
        except duckdb.Error as exc:
            if "lock" in str(exc).lower():
                raise StoreError(
                    f"the DuckDB store {self.path!r} is in use by another process (a running "
                    "keeneye server?): DuckDB lets one process open a file. Run this command "
                    "against the running server with --url http://HOST:PORT, or keep the data "
                    "in PostgreSQL (--store postgresql://user@host/db), which processes share"
                ) from exc
            raise StoreError(f"cannot open the DuckDB store {self.path!r}: {exc}") from exc
        return con

    def _note_failure(self, exc: BaseException) -> None:
        """Remember a fatal error: DuckDB then refuses every statement until reopened."""
        if isinstance(exc, duckdb.FatalException) or "invalidated" in str(exc):
            self._broken = str(exc).splitlines()[0]

    def _recover(self) -> None:
        """Reopen the file after a fatal error (caller holds the write lock).

        Every cursor must be closed first: DuckDB keeps an invalidated database instance
        alive, and hands it out again, while any connection to it is open.
        """
        if self._broken is None:
            return
        with self._cursors_lock:
            for cursor in self._cursors:
                with suppress(duckdb.Error):
                    cursor.close()
            self._cursors.clear()
            self._epoch += 1
        with suppress(duckdb.Error):
            self._con.close()
        try:
            self._con = self._connect()
        except StoreError as exc:
            # Still unusable (e.g. the disk is still full): keep trying on the next request.
            self._con = duckdb.connect(":memory:")  # a closed-file placeholder
            raise StoreError(
                f"DuckDB store {self.path!r} is unavailable after a fatal error "
                f"({self._broken}); reopening failed: {exc}"
            ) from exc
        self._models.clear()
        self._schemas.clear()
        self._broken = None

    def _connection(self) -> duckdb.DuckDBPyConnection:
        """The writer's connection, reopened first if a fatal error invalidated it."""
        self._check_open()
        if self._broken is not None:
            with self._write_lock:
                self._recover()
        return self._con

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._write_lock:
            con = self._connection()
            try:
                con.begin()
                yield con
                con.commit()
            except BaseException as exc:
                self._models.clear()  # the in-memory catalog may hold what was rolled back
                # a failed COMMIT already ended it, or the database is invalidated
                with suppress(duckdb.Error):
                    con.rollback()
                self._note_failure(exc)
                if isinstance(exc, duckdb.Error):
                    raise StoreError(f"DuckDB store {self.path!r}: {exc}") from exc
                raise

    def _reader(self) -> duckdb.DuckDBPyConnection:
        con = self._connection()
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cursor is None or getattr(self._local, "epoch", -1) != self._epoch:
            with self._cursors_lock:
                cursor = con.cursor()
                cursor.execute("SET TimeZone = 'UTC'")
                self._local.cursor = cursor
                self._local.epoch = self._epoch
                self._cursors.append(cursor)
        return cursor

    def probe_write(self) -> None:
        """A tiny write transaction: raises :class:`StoreError` while writes fail."""
        with self._transaction() as con:
            con.execute(
                "INSERT OR REPLACE INTO keeneye_meta VALUES ('last_probe', ?)",
                [self._now().isoformat()],
            )

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._reader().execute(sql, list(params)).fetchall()
        except duckdb.Error as exc:
            self._note_failure(exc)
            raise StoreError(f"DuckDB store {self.path!r}: {exc}") from exc

    def _read_arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        try:
            return self._reader().sql(sql, params=list(params)).to_arrow_table()
        except duckdb.Error as exc:
            self._note_failure(exc)
            raise StoreError(f"DuckDB store {self.path!r}: {exc}") from exc

    def _read_arrow_snapshot(self, *queries: tuple[str, Sequence[Any]]) -> tuple[pa.Table, ...]:
        """Several queries' results from one snapshot (one read transaction)."""
        cursor = self._reader()
        try:
            cursor.begin()
            try:
                out = tuple(
                    cursor.sql(sql, params=list(params)).to_arrow_table() for sql, params in queries
                )
            finally:
                cursor.rollback()  # read only: nothing to keep
            return out
        except duckdb.Error as exc:
            self._note_failure(exc)
            raise StoreError(f"DuckDB store {self.path!r}: {exc}") from exc

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the store {self.path!r} is closed")

    def _table(self, model: str) -> str | None:
        known = self._tables.get(model)
        if known is not None:
            self._check_open()
            return known
        rows = self._read("SELECT table_name FROM models WHERE model = ?", [model])
        if not rows:
            return None
        self._tables[model] = table = str(rows[0][0])
        return table

    def _require_table(self, model: str) -> str:
        table = self._table(model)
        if table is None:
            raise NotFoundError(f"model {model!r} has no events or versions in this store")
        return table

    def _writer_model(self, con: duckdb.DuckDBPyConnection, model: str) -> _Model:
        """The writer's view of a model, creating the model inside the open transaction."""
        known = self._models.get(model)
        if known is not None:
            return known
        rows = con.execute("SELECT table_name FROM models WHERE model = ?", [model]).fetchall()
        if rows:
            info = _Model(table=str(rows[0][0]))
        else:
            count = con.execute("SELECT count(*) FROM models").fetchall()[0][0]
            info = _Model(table=f"events_{int(count) + 1}")
            con.execute(events_table_ddl(info.table))
            con.execute("INSERT INTO models VALUES (?, ?, ?)", [model, info.table, self._now()])
        for name, column, kind, streak_type, streak, reported in con.execute(
            "SELECT feature, column_name, type, streak_type, streak, reported_type "
            "FROM features WHERE model = ?",
            [model],
        ).fetchall():
            info.states[name] = FeatureState(name, kind, streak_type, int(streak), reported)
            if column is not None:
                info.columns[name] = column
        info.version_features = {
            (str(v), str(f))
            for v, f in con.execute(
                "SELECT version, feature FROM version_features WHERE model = ?", [model]
            ).fetchall()
        }
        info.versions = {
            str(v)
            for (v,) in con.execute(
                "SELECT version FROM versions WHERE model = ?", [model]
            ).fetchall()
        }
        self._models[model] = info
        return info

    def _schema_of(self, model: str, version: str) -> frozenset[str] | None:
        key = (model, version)
        if key not in self._schemas:
            rows = self._con.execute(
                "SELECT table_name FROM baselines WHERE model = ? AND version = ?",
                [model, version],
            ).fetchall()
            if rows:
                columns = self._con.execute(f"DESCRIBE {rows[0][0]}").fetchall()
                self._schemas[key] = frozenset(str(c[0]) for c in columns)
            else:
                self._schemas[key] = None
        return self._schemas[key]

    def close(self) -> None:
        """Close the file (idempotent); later calls raise :class:`~keeneye.errors.StoreError`."""
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            with self._cursors_lock:
                for cursor in self._cursors:
                    cursor.close()
                self._cursors.clear()
            self._con.close()


@contextmanager
def _registered(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> Iterator[None]:
    """``table`` visible to SQL as ``name`` for the block.

    Not unregistered when the block fails: the transaction is then aborted (DuckDB refuses
    every statement until ROLLBACK) and the next ``register`` replaces the view anyway.
    """
    con.register(name, table)
    yield
    con.unregister(name)


def _check_model(model: str) -> None:
    if not isinstance(model, str) or not model:
        raise InputError(f"model name must be a non-empty string, got {model!r}")
