"""The embedded default store: one DuckDB file, columnar per feature.

>>> from datetime import datetime, timezone
>>> from keeneye.store import PredictionEvent
>>> store = DuckDBStore(":memory:")
>>> at = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> store.write_predictions("churn", [PredictionEvent("e1", "3", at, {"age": 31}, 0.7)])
WriteReport(stored=1, duplicates=0, replaced=0, invalid_values={}, pending=0)
>>> store.read_window("churn", at, at.replace(hour=1)).features.column("age").to_pylist()
[31.0]
>>> store.close()

Layout: per model an ``events_<n>`` table (system columns, then one typed column per feature,
added with ``ALTER TABLE`` as features appear) and shared catalog tables
(:mod:`keeneye.store._duckdb_schema`). A batch is one transaction; ``write_*`` return after
``COMMIT``, which DuckDB makes durable through its write-ahead log.

Threads: writes are serialised by one lock on one connection; every reading thread gets its
own cursor (DuckDB's MVCC lets reads run beside a write).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from keeneye.errors import InputError, StoreError
from keeneye.store._batch import (
    TIMESTAMP,
    FeatureState,
    InvalidValue,
    PreparedBatch,
    invalid_table,
    prepare_predictions,
    utc,
)
from keeneye.store._duckdb_base import _check_model, _Model, _registered
from keeneye.store._duckdb_results import _ResultsMixin
from keeneye.store._duckdb_schema import LABEL_COLUMNS, PREDICTION_COLUMNS, SQL_TYPES
from keeneye.store._duckdb_services import _ServicesMixin
from keeneye.store._duckdb_versions import _VersionsMixin
from keeneye.store._order import in_time_order
from keeneye.store._values import (
    BOOLEAN,
    CATEGORICAL,
    LABEL_KEY,
    NUMERIC,
    PREDICTION_KEY,
    REASON_MISSING,
    REASON_TYPE,
    REASON_UNSUPPORTED,
    RESERVED_NAMES,
    UNSUPPORTED,
    as_float,
    raw_text,
    value_type,
)
from keeneye.store.records import (
    LabelEvent,
    PredictionColumns,
    PredictionEvent,
    WindowData,
    WriteReport,
)

#: New feature columns added per short transaction when a batch brings many.
SCHEMA_CHUNK = 16


class _AlreadyStored(Exception):
    """A plain INSERT met an event id that is already stored."""


#: A batch typed outside the lock: the catalog it was typed against, its generation, the result.
_Early = tuple[_Model, int, PreparedBatch]


class DuckDBStore(_VersionsMixin, _ResultsMixin, _ServicesMixin):
    """An :class:`~keeneye.store.base.EventStore` in one DuckDB file (or ``":memory:"``).

    Parameters
    ----------
    path:
        The database file; created with its parent directory when missing.
    clock:
        Gives "now" (receive times, registration times); tests pass a fake clock.
    type_change_after:
        How many consecutive values of another type record a type change of a feature.
    """

    # -- events -------------------------------------------------------------------------------
    def write_predictions(self, model: str, events: Sequence[PredictionEvent]) -> WriteReport:
        """Store a batch atomically; an ``event_id`` already stored counts as a duplicate.

        Values of the wrong type are stored as NULL and recorded as invalid values (counted in
        the report per feature); features appear as columns as they are first seen.
        """
        _check_model(model)
        if not events:
            return WriteReport(stored=0)
        events = PredictionColumns.of(events)  # once: every step below reads the columns
        # Type the batch before taking the write lock (it is the Python-heavy part), against a
        # snapshot of the writer's catalog; the write redoes it if the catalog moved meanwhile.
        early = self._prepare_unlocked(model, events)
        if self._grow_schema(model, events, early):
            early = self._prepare_unlocked(model, events)
        if early is not None and self._mergeable(model, early):
            # The usual batch changes nothing in the catalog: it may share a transaction
            # with the batches of other requests (group commit, ``_write_group``).
            return self._group.submit((model, events, early), self._write_group)
        return self._write_alone(model, events, early)

    def _write_alone(
        self,
        model: str,
        events: Sequence[PredictionEvent],
        early: tuple[_Model, int, PreparedBatch] | None,
    ) -> WriteReport:
        """One batch in its own transaction (new features, state changes, retried ids)."""
        with self._write_lock:
            try:
                # Optimistic plain INSERT: much cheaper than INSERT OR IGNORE … RETURNING.
                return self._write_predictions(model, events, early, skip_stored=False)
            except _AlreadyStored:
                # A retried batch: redo it (same lock, nothing committed) skipping stored ids.
                return self._write_predictions(model, events, early, skip_stored=True)

    def _mergeable(self, model: str, early: tuple[_Model, int, PreparedBatch]) -> bool:
        """Whether a prepared batch is current and leaves the catalog as it is."""
        info, generation, batch = early
        return (
            self._models.get(model) is info
            and info.generation == generation
            and not batch.new_features
            and not batch.type_changes
            and batch.version_features <= info.version_features
            and all(info.states.get(name) == state for name, state in batch.states.items())
            and info.versions.issuperset(batch.events.versions)
        )

    def _write_group(
        self, items: Sequence[tuple[str, Sequence[PredictionEvent], _Early]]
    ) -> list[WriteReport | BaseException]:
        """Concurrent requests' batches, in as few transactions as possible.

        The batches of one model that are still :meth:`_mergeable` under the lock go in one
        INSERT and one COMMIT; any other batch — or all of them when the shared INSERT fails,
        e.g. on an event id already stored — is written alone, exactly as without grouping.
        """
        outcomes: list[WriteReport | BaseException | None] = [None] * len(items)
        with self._write_lock:
            by_model: dict[str, list[int]] = {}
            alone: list[int] = []
            for index, (model, _, early) in enumerate(items):
                if self._mergeable(model, early):
                    by_model.setdefault(model, []).append(index)
                else:
                    alone.append(index)
            for model, indices in by_model.items():
                try:
                    reports = self._write_merged(model, [items[i] for i in indices])
                except (_AlreadyStored, StoreError):
                    alone.extend(indices)  # each alone: its own duplicates, its own error
                else:
                    for index, report in zip(indices, reports, strict=True):
                        outcomes[index] = report
            for index in sorted(alone):
                model, events, early = items[index]
                try:
                    outcomes[index] = self._write_alone(model, events, early)
                except Exception as exc:
                    outcomes[index] = exc
        return [outcome for outcome in outcomes if outcome is not None]

    def _write_merged(
        self, model: str, items: Sequence[tuple[str, Sequence[PredictionEvent], _Early]]
    ) -> list[WriteReport]:
        """Mergeable batches of one model in one transaction; raises ``_AlreadyStored``."""
        with self._transaction() as con:
            info = self._writer_model(con, model)
            received = self._now()
            tables = []
            for _, _, (_, _, batch) in items:
                data = dict(batch.system)
                for name, array in batch.features.items():
                    data[info.columns[name]] = array
                tables.append(pa.table(data))
            self._append_events(con, info, tables, received)
            self._insert_invalid(con, model, [row for item in items for row in item[2][2].invalid])
        reports = []
        for _, events, (_, _, batch) in items:
            counts: dict[str, int] = {}
            for row in batch.invalid:
                counts[row.feature] = counts.get(row.feature, 0) + 1
            reports.append(
                WriteReport(
                    stored=len(batch.events),
                    duplicates=len(events) - len(batch.events),
                    invalid_values=counts,
                )
            )
        return reports

    def _grow_schema(
        self,
        model: str,
        events: Sequence[PredictionEvent],
        early: tuple[_Model, int, PreparedBatch] | None,
    ) -> bool:
        """Add a wide batch's new feature columns in short transactions of their own.

        Each ``ALTER TABLE`` costs more the more columns the table has; done inside the
        batch's transaction, thousands of new features held the one writer lock for a minute
        and every other model's writes waited. Here the lock is released between chunks of
        :data:`SCHEMA_CHUNK` columns, so other writes get in. A feature added here stays
        even if the batch then fails: it was seen, with the type of its first value.
        Returns whether the catalog grew.
        """
        if early is not None:
            batch = early[2]
        else:
            known = self._models.get(model)
            batch = prepare_predictions(
                events,
                known.states if known is not None else {},
                schema_of=lambda version: None,  # only the new features matter here
                type_change_after=self._type_change_after,
                known_pairs=known.version_features if known is not None else frozenset(),
            )
        new = [n for n in batch.new_features if n not in RESERVED_NAMES]
        if len(new) <= SCHEMA_CHUNK:
            return False  # small: added inside the batch's own transaction
        for start in range(0, len(new), SCHEMA_CHUNK):
            with self._transaction() as con:
                info = self._writer_model(con, model)
                received = self._now()
                added: dict[str, FeatureState] = {}
                columns: dict[str, str] = {}
                for name in new[start : start + SCHEMA_CHUNK]:
                    if name in info.columns or name in info.states:
                        continue
                    state = FeatureState(name, batch.states[name].type)
                    column = f"f_{len(info.columns) + len(columns) + 1}"
                    con.execute(
                        f"ALTER TABLE {info.table} ADD COLUMN {column} {SQL_TYPES[state.type]}"
                    )
                    info.layout = None
                    con.execute(
                        "INSERT INTO features VALUES (?, ?, ?, ?, ?, NULL, 0, NULL)",
                        [model, name, column, state.type, received],
                    )
                    added[name] = state
                    columns[name] = column
            if added:
                info.columns = {**info.columns, **columns}
                info.states = {**info.states, **added}
                info.generation += 1
        return True

    def _prepare_unlocked(
        self, model: str, events: Sequence[PredictionEvent]
    ) -> tuple[_Model, int, PreparedBatch] | None:
        """``prepare_predictions`` outside the lock, when the catalog snapshot is complete.

        Safe because the writer never mutates ``_Model.states``/``version_features`` in place
        (it replaces them and bumps ``generation``) and schemas are only read from the cache.
        """
        info = self._models.get(model)
        if info is None:
            return None
        generation = info.generation
        schemas: dict[str, frozenset[str] | None] = {}
        for version in set(PredictionColumns.of(events).versions):
            key = (model, version)
            if key not in self._schemas:
                return None  # needs a query: done under the lock
            schemas[version] = self._schemas[key]
        batch = prepare_predictions(
            events,
            info.states,
            schema_of=schemas.__getitem__,
            type_change_after=self._type_change_after,
            known_pairs=info.version_features,
        )
        return info, generation, batch

    def _write_predictions(
        self,
        model: str,
        events: Sequence[PredictionEvent],
        early: tuple[_Model, int, PreparedBatch] | None,
        *,
        skip_stored: bool,
    ) -> WriteReport:
        with self._transaction() as con:
            info = self._writer_model(con, model)
            received = self._now()
            if early is not None and early[0] is info and early[1] == info.generation:
                batch = early[2]
            else:
                batch = prepare_predictions(
                    events,
                    info.states,
                    schema_of=lambda version: self._schema_of(model, version),
                    type_change_after=self._type_change_after,
                    known_pairs=info.version_features,
                )
            new_columns: dict[str, str] = {}
            for name in batch.new_features:
                state = batch.states[name]
                column = None
                if name not in RESERVED_NAMES:
                    column = f"f_{len(info.columns) + len(new_columns) + 1}"
                    new_columns[name] = column
                    con.execute(
                        f"ALTER TABLE {info.table} ADD COLUMN {column} {SQL_TYPES[state.type]}"
                    )
                    info.layout = None
                con.execute(
                    "INSERT INTO features VALUES (?, ?, ?, ?, ?, NULL, 0, NULL)",
                    [model, name, column, state.type, received],
                )
            for name, state in batch.states.items():
                if name not in batch.new_features and state == info.states.get(name):
                    continue
                con.execute(
                    "UPDATE features SET streak_type = ?, streak = ?, reported_type = ? "
                    "WHERE model = ? AND feature = ?",
                    [state.streak_type, state.streak, state.reported_type, model, name],
                )
            for feature, old, new in batch.type_changes:
                con.execute(
                    "INSERT INTO schema_changes VALUES (?, ?, ?, ?, ?)",
                    [model, feature, old, new, received],
                )
            columns = {**info.columns, **new_columns}
            data = dict(batch.system)
            for name, array in batch.features.items():
                data[columns[name]] = array
            table = pa.table(data)
            names = ", ".join(table.column_names)
            insert = (
                f"INTO {info.table} ({names}, received_at) "
                f"SELECT {names}, ?::TIMESTAMPTZ FROM _keeneye_batch"
            )
            if skip_stored:
                with _registered(con, "_keeneye_batch", table):
                    inserted = {
                        row[0]
                        for row in con.execute(
                            f"INSERT OR IGNORE {insert} RETURNING event_id", [received]
                        ).fetchall()
                    }
                invalid = [row for row in batch.invalid if row.event_id in inserted]
            else:
                self._append_events(con, info, [table], received)
                inserted = set(batch.events.event_ids)
                invalid = batch.invalid
            self._insert_invalid(con, model, invalid)
            new_pairs = batch.version_features - info.version_features
            if new_pairs:
                # one statement: ``executemany`` costs milliseconds per row (a wide batch
                # brings thousands of pairs)
                pairs = sorted(new_pairs)
                rows = pa.table(
                    {
                        "model": pa.array([model] * len(pairs), type=pa.string()),
                        "version": pa.array([v for v, _ in pairs], type=pa.string()),
                        "feature": pa.array([f for _, f in pairs], type=pa.string()),
                    }
                )
                with _registered(con, "_keeneye_pairs", rows):
                    con.execute(
                        "INSERT OR IGNORE INTO version_features SELECT * FROM _keeneye_pairs"
                    )
            # only versions of events actually stored (a batch of duplicates adds none)
            new_versions = {
                version
                for version, event_id in zip(
                    batch.events.versions, batch.events.event_ids, strict=True
                )
                if event_id in inserted
            }
            new_versions -= info.versions
            if new_versions:
                con.executemany(
                    "INSERT OR IGNORE INTO versions (model, version, registered_at) "
                    "VALUES (?, ?, ?)",
                    [[model, v, received] for v in sorted(new_versions)],
                )
        # Committed: now the in-memory catalog may follow (replaced, never mutated in place:
        # unlocked readers may hold the old objects).
        changed = {n: st for n, st in batch.states.items() if info.states.get(n) != st}
        if new_columns or changed or new_pairs:
            info.columns = {**info.columns, **new_columns}
            info.states = {**info.states, **changed}
            info.version_features = info.version_features | new_pairs
            info.generation += 1
        info.versions |= new_versions
        counts: dict[str, int] = {}
        for row in invalid:
            counts[row.feature] = counts.get(row.feature, 0) + 1
        return WriteReport(
            stored=len(inserted),
            duplicates=len(events) - len(inserted),
            invalid_values=counts,
        )

    @staticmethod
    def _append_events(
        con: duckdb.DuckDBPyConnection, info: _Model, tables: list[pa.Table], received: datetime
    ) -> None:
        """Append batches (Arrow tables named by column) to the model's events table.

        Handed to DuckDB as one relation in the table's own column order: registering and
        dropping a view for an ``INSERT … SELECT`` took about a fifth of the CPU of a write.
        Raises ``_AlreadyStored`` when an event id is already stored.
        """
        table = (
            tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="default")
        )
        if info.layout is None:
            info.layout = tuple(
                str(row[0]) for row in con.execute(f"DESCRIBE {info.table}").fetchall()
            )
        given = set(table.column_names)
        if not given <= set(info.layout):  # pragma: no cover - the catalog and table disagree
            raise StoreError(
                f"events table {info.table} lacks columns {sorted(given - set(info.layout))}"
            )
        rows = table.num_rows
        columns = [
            table.column(name)
            if name in given
            else pa.repeat(pa.scalar(received, type=TIMESTAMP), rows)
            if name == "received_at"
            else pa.nulls(rows)  # a feature this batch does not have
            for name in info.layout
        ]
        try:
            con.from_arrow(pa.table(columns, names=list(info.layout))).insert_into(info.table)
        except duckdb.ConstraintException as exc:
            raise _AlreadyStored from exc

    @staticmethod
    def _insert_invalid(
        con: duckdb.DuckDBPyConnection, model: str, rows: Sequence[InvalidValue]
    ) -> None:
        if not rows:
            return
        with _registered(con, "_keeneye_invalid", invalid_table(rows, model)):
            con.execute("INSERT INTO invalid_values SELECT * FROM _keeneye_invalid")

    def write_labels(self, model: str, labels: Sequence[LabelEvent]) -> WriteReport:
        """Store labels; a label may arrive before its prediction; a repeat replaces the old.

        ``replaced`` counts labels that replaced an earlier one (also inside the batch);
        ``pending`` counts labels whose prediction is not stored yet (joined when it arrives).
        """
        _check_model(model)
        if not labels:
            return WriteReport(stored=0)
        latest: dict[str, LabelEvent] = {}
        for index, label in enumerate(labels):
            if not isinstance(label.event_id, str) or not label.event_id:
                raise InputError(f"label {index}: event_id must be a non-empty string")
            utc(label.timestamp, f"label {label.event_id!r} timestamp")
            latest[label.event_id] = label
        in_batch_repeats = len(labels) - len(latest)
        with self._transaction() as con:
            info = self._writer_model(con, model)
            received = self._now()
            state = info.states.get(LABEL_KEY)
            new_state = state is None
            invalid: list[InvalidValue] = []
            cols: dict[str, list[Any]] = {NUMERIC: [], CATEGORICAL: [], BOOLEAN: []}
            for label in latest.values():
                kind = value_type(label.label)
                for column_kind, column in cols.items():
                    column.append(label.label if kind == column_kind else None)
                if kind == NUMERIC:
                    cols[NUMERIC][-1] = as_float(label.label)
                if kind is None:
                    continue
                if state is None and kind != UNSUPPORTED:
                    state = FeatureState(LABEL_KEY, kind)
                if kind == UNSUPPORTED or state is None or kind != state.type:
                    reason = REASON_UNSUPPORTED if kind == UNSUPPORTED else REASON_TYPE
                    invalid.append(
                        InvalidValue(
                            label.event_id,
                            LABEL_KEY,
                            raw_text(label.label),
                            reason,
                            label.timestamp.astimezone(UTC),
                            None,
                        )
                    )
            if new_state and state is not None:
                con.execute(
                    "INSERT INTO features VALUES (?, ?, NULL, ?, ?, NULL, 0, NULL)",
                    [model, LABEL_KEY, state.type, received],
                )
            table = pa.table(
                {
                    "model": pa.array([model] * len(latest), type=pa.string()),
                    "event_id": pa.array(list(latest), type=pa.string()),
                    "label_num": pa.array(cols[NUMERIC], type=pa.float64()),
                    "label_str": pa.array(cols[CATEGORICAL], type=pa.string()),
                    "label_bool": pa.array(cols[BOOLEAN], type=pa.bool_()),
                    "label_raw": pa.array([raw_text(x.label) for x in latest.values()]),
                    "label_ts": pa.array(
                        [x.timestamp.astimezone(UTC) for x in latest.values()], type=TIMESTAMP
                    ),
                    "received_at": pa.array([received] * len(latest), type=TIMESTAMP),
                }
            )
            with _registered(con, "_keeneye_labels", table):
                existing = {
                    r[0]
                    for r in con.execute(
                        "SELECT event_id FROM labels WHERE model = ? AND event_id IN "
                        "(SELECT event_id FROM _keeneye_labels)",
                        [model],
                    ).fetchall()
                }
                present = con.execute(
                    f"SELECT count(*) FROM {info.table} WHERE event_id IN "
                    "(SELECT event_id FROM _keeneye_labels)"
                ).fetchall()[0][0]
                if existing:
                    con.execute(
                        "DELETE FROM invalid_values WHERE model = ? AND feature = ? AND "
                        "event_id IN (SELECT event_id FROM _keeneye_labels)",
                        [model, LABEL_KEY],
                    )
                con.execute(
                    "INSERT INTO labels SELECT *, 0 FROM _keeneye_labels "
                    "ON CONFLICT (model, event_id) DO UPDATE SET label_num = excluded.label_num, "
                    "label_str = excluded.label_str, label_bool = excluded.label_bool, "
                    "label_raw = excluded.label_raw, label_ts = excluded.label_ts, "
                    "received_at = excluded.received_at, revisions = labels.revisions + 1"
                )
            self._insert_invalid(con, model, invalid)
        if new_state and state is not None:
            info.states = {**info.states, LABEL_KEY: state}
            info.generation += 1
        counts: dict[str, int] = {LABEL_KEY: len(invalid)} if invalid else {}
        return WriteReport(
            stored=len(latest),
            replaced=len(existing) + in_batch_repeats,
            invalid_values=counts,
            pending=len(latest) - int(present),
        )

    def _types(self, model: str) -> dict[str, tuple[str | None, str]]:
        """``{feature: (column, type)}`` as committed (readers never use the writer's cache)."""
        return {
            str(name): (column, str(kind))
            for name, column, kind in self._read(
                "SELECT feature, column_name, type FROM features WHERE model = ?", [model]
            )
        }

    def read_window(
        self,
        model: str,
        start: datetime,
        end: datetime,
        *,
        version: str | None = None,
        features: Sequence[str] | None = None,
    ) -> WindowData:
        """Rows with ``start <= timestamp < end``, ordered by timestamp then event id.

        A requested feature that was never stored comes back as an all-null column (Arrow type
        ``null``) so that a baseline feature missing from production shows up as missing.
        """
        start, end = utc(start, "start"), utc(end, "end")
        table = self._require_table(model)
        # Catalog first, data second: columns are only ever added, so every column named by
        # this (older) snapshot exists in the data snapshot.
        types = self._types(model)
        pred_type = types.get(PREDICTION_KEY, (None, ""))[1]
        label_type = types.get(LABEL_KEY, (None, ""))[1]
        prediction = PREDICTION_COLUMNS.get(pred_type, "prediction_num")
        label = LABEL_COLUMNS.get(label_type, "label_num")
        stored = {n: c for n, (c, _) in types.items() if c is not None}
        wanted = list(stored) if features is None else list(features)
        selected = [(n, stored[n]) for n in wanted if n in stored]
        feature_sql = "".join(f", e.{column}" for _, column in selected)
        where = "e.ts >= ? AND e.ts < ?" + ("" if version is None else " AND e.version = ?")
        filters: list[Any] = [start, end] + ([] if version is None else [version])
        # The events and their labels in two scans of one snapshot, joined here: a join's
        # output is not in the order of the scan (sorting a day of rows costs more than
        # reading them), a scan's is: in insertion order, which is time order almost always.
        rows, labels = self._read_arrow_snapshot(
            (
                f"SELECT e.event_id, e.version, e.ts AS timestamp, e.{prediction} AS prediction, "
                f"e.probabilities, e.latency_seconds{feature_sql} FROM {table} e WHERE {where}",
                filters,
            ),
            (
                f"SELECT l.event_id, l.{label} AS label, l.label_ts AS label_timestamp "
                f"FROM labels l WHERE l.model = ? AND l.event_id IN "
                f"(SELECT e.event_id FROM {table} e WHERE {where})",
                [model, *filters],
            ),
        )
        rows = in_time_order(rows, "timestamp", "event_id")
        # labels.event_id is unique per model (the primary key): at most one label per event
        at = pc.index_in(rows.column("event_id"), value_set=labels.column("event_id"))
        result = pa.Table.from_arrays(
            [
                *rows.columns[:6],
                labels.column("label").take(at),
                labels.column("label_timestamp").take(at),
                *rows.columns[6:],
            ],
            names=[
                *rows.column_names[:6],
                "label",
                "label_timestamp",
                *rows.column_names[6:],
            ],
        )
        n_system = 8
        events = result.select(list(range(n_system)))
        columns: dict[str, pa.Array | pa.ChunkedArray] = {}
        by_name = {name: result.column(n_system + i) for i, (name, _) in enumerate(selected)}
        for name in wanted:
            columns[name] = by_name.get(name, pa.nulls(result.num_rows))
        return WindowData(features=pa.table(columns), events=events)

    def count_events(
        self,
        model: str,
        start: datetime,
        end: datetime,
        *,
        version: str | None = None,
        bucket_seconds: int | None = None,
    ) -> pa.Table:
        """Event counts in ``[start, end)``.

        Without ``bucket_seconds``: one row per version with events (columns ``version``,
        ``events``); with a ``version`` filter always exactly one row. With ``bucket_seconds``:
        buckets aligned on ``start`` (``bucket_start``, ``version``, ``events``), one row per
        bucket and version with events, and a row with ``events = 0`` (version null, or the
        filtered version) for each empty bucket, so that a gap in traffic is visible.
        """
        start, end = utc(start, "start"), utc(end, "end")
        table = self._table(model)
        where = "ts >= ? AND ts < ?" + (" AND version = ?" if version is not None else "")
        filters: list[Any] = [start, end] + ([version] if version is not None else [])
        if bucket_seconds is None:
            rows = (
                self._read(
                    f"SELECT version, count(*) FROM {table} WHERE {where} "
                    "GROUP BY version ORDER BY version",
                    filters,
                )
                if table
                else []
            )
            if version is not None and not rows:
                rows = [(version, 0)]
            return pa.table(
                {
                    "version": pa.array([r[0] for r in rows], type=pa.string()),
                    "events": pa.array([int(r[1]) for r in rows], type=pa.int64()),
                }
            )
        if bucket_seconds < 1:
            raise InputError(f"bucket_seconds must be >= 1, got {bucket_seconds}")
        step = bucket_seconds * 1_000_000
        rows = (
            self._read(
                f"SELECT (epoch_us(ts) - epoch_us(?::TIMESTAMPTZ)) // ? AS bucket, version, "
                f"count(*) FROM {table} WHERE {where} GROUP BY ALL ORDER BY bucket, version",
                [start, step, *filters],
            )
            if table
            else []
        )
        n_buckets = -(-int((end - start) / timedelta(microseconds=1)) // step)
        found: dict[int, list[tuple[str, int]]] = {}
        for bucket, row_version, count in rows:
            found.setdefault(int(bucket), []).append((row_version, int(count)))
        starts, versions, counts = [], [], []
        for bucket in range(max(n_buckets, 0)):
            at = start + timedelta(seconds=bucket * bucket_seconds)
            for row_version, count in found.get(bucket, [(version, 0)]):
                starts.append(at)
                versions.append(row_version)
                counts.append(count)
        return pa.table(
            {
                "bucket_start": pa.array(starts, type=TIMESTAMP),
                "version": pa.array(versions, type=pa.string()),
                "events": pa.array(counts, type=pa.int64()),
            }
        )

    def count_labelled(
        self, model: str, start: datetime, end: datetime, *, bucket_seconds: int
    ) -> pa.Table:
        """Per bucket of ``[start, end)`` aligned on ``start``: ``bucket_start``, ``events``,
        ``labels`` (events with a joined label of the label's type, as ``read_window`` gives
        them non-null) and ``last_label_at`` (the newest of those labels' times). Only buckets
        with events; ordered by time. An aggregate: no event row leaves the database.

        >>> from keeneye.store import LabelEvent, PredictionEvent
        >>> store = DuckDBStore(":memory:")
        >>> at = datetime(2026, 1, 1, tzinfo=UTC)
        >>> _ = store.write_predictions("m", [PredictionEvent("a", "1", at, {}, 0)])
        >>> _ = store.write_labels("m", [LabelEvent("a", 1, at + timedelta(days=2))])
        >>> table = store.count_labelled("m", at, at + timedelta(days=1), bucket_seconds=3600)
        >>> table.select(["events", "labels"]).to_pylist()
        [{'events': 1, 'labels': 1}]
        >>> store.close()
        """
        start, end = utc(start, "start"), utc(end, "end")
        if bucket_seconds < 1:
            raise InputError(f"bucket_seconds must be >= 1, got {bucket_seconds}")
        schema = pa.schema(
            [
                ("bucket_start", TIMESTAMP),
                ("events", pa.int64()),
                ("labels", pa.int64()),
                ("last_label_at", TIMESTAMP),
            ]
        )
        table = self._table(model)
        if table is None:
            return schema.empty_table()
        label_type = self._types(model).get(LABEL_KEY, (None, ""))[1]
        label = LABEL_COLUMNS.get(label_type, "label_num")
        step = bucket_seconds * 1_000_000
        found = self._read_arrow(
            "SELECT make_timestamptz(epoch_us(?::TIMESTAMPTZ) + bucket * ?) AS bucket_start, "
            "events, labels, last_label_at FROM ("
            "SELECT (epoch_us(e.ts) - epoch_us(?::TIMESTAMPTZ)) // ? AS bucket, "
            f"count(*) AS events, count(l.{label}) AS labels, "
            f"max(l.label_ts) FILTER (WHERE l.{label} IS NOT NULL) AS last_label_at "
            f"FROM {table} e LEFT JOIN labels l ON l.model = ? AND l.event_id = e.event_id "
            "WHERE e.ts >= ? AND e.ts < ? GROUP BY bucket) ORDER BY bucket",
            [start, step, start, step, model, start, end],
        )
        return found.cast(schema)

    def invalid_value_counts(
        self, model: str, start: datetime, end: datetime, *, version: str | None = None
    ) -> Mapping[str, Mapping[str, int]]:
        """``{feature: {reason: count}}`` in the window.

        Reasons: ``type`` (value of another type, stored as NULL), ``unknown_feature`` (not in
        the version's registered schema), ``unsupported`` (a list or object) and ``missing``
        (NULL — key absent or ``null`` — for a feature that the event's version has sent).
        The prediction and the label are counted under ``__prediction__`` and ``__label__``.
        """
        window = (utc(start, "start"), utc(end, "end"))
        found = self._invalid_counts(model, [window], by_version=False, version=version)
        return found[0].get(None, {})

    def invalid_value_counts_by_window(
        self, model: str, windows: Sequence[tuple[datetime, datetime]]
    ) -> list[dict[str, dict[str, dict[str, int]]]]:
        """For each ``(start, end)`` window, ``{version: {feature: {reason: count}}}``: what
        ``invalid_value_counts(model, start, end, version=version)`` gives for each version
        with invalid values in it, from two queries whatever the number of windows.

        >>> from keeneye.store import PredictionEvent
        >>> store = DuckDBStore(":memory:")
        >>> at = datetime(2026, 1, 1, tzinfo=UTC)
        >>> events = [PredictionEvent(str(i), "1", at, {"x": 1.0 if i else "a"}, 0) for i in (0, 1)]
        >>> _ = store.write_predictions("m", events)
        >>> store.invalid_value_counts_by_window("m", [(at, at + timedelta(hours=1))])
        [{'1': {'x': {'type': 1}}}]
        >>> store.close()
        """
        checked = [(utc(s, "start"), utc(e, "end")) for s, e in windows]
        found = self._invalid_counts(model, checked, by_version=True, version=None)
        return [
            {str(v): counts for v, counts in window.items() if v is not None} for window in found
        ]

    def _invalid_counts(
        self,
        model: str,
        windows: Sequence[tuple[datetime, datetime]],
        *,
        by_version: bool,
        version: str | None,
    ) -> list[dict[str | None, dict[str, dict[str, int]]]]:
        """Per window, ``{group: {feature: {reason: count}}}`` where the group is the version
        (``by_version``) or ``None`` (all rows, or those of ``version``)."""
        out: list[dict[str | None, dict[str, dict[str, int]]]] = [{} for _ in windows]
        table = self._table(model)
        if table is None or not windows:
            return out
        # The windows as a relation (index, start, end), joined by time range; the outer bounds
        # keep DuckDB's min/max pruning of row groups.
        spans = (
            "(SELECT unnest(?::BIGINT[]) AS idx, unnest(?::TIMESTAMPTZ[]) AS ws, "
            "unnest(?::TIMESTAMPTZ[]) AS we)"
        )
        span_params: list[Any] = [
            list(range(len(windows))),
            [w[0] for w in windows],
            [w[1] for w in windows],
        ]
        lowest, highest = min(w[0] for w in windows), max(w[1] for w in windows)
        group = "x.version" if by_version else "NULL::VARCHAR"
        version_sql = " AND x.version = ?" if version is not None else ""
        version_params: list[Any] = [version] if version is not None else []
        for idx, key, feature, reason, count in self._read(
            f"SELECT w.idx, {group}, x.feature, x.reason, count(*) FROM invalid_values x "
            f"JOIN {spans} w ON x.ts >= w.ws AND x.ts < w.we "
            f"WHERE x.model = ? AND x.ts >= ? AND x.ts < ?{version_sql} GROUP BY ALL "
            "ORDER BY ALL",
            [*span_params, model, lowest, highest, *version_params],
        ):
            out[int(idx)].setdefault(key, {}).setdefault(str(feature), {})[str(reason)] = int(count)
        # Missing values, counted from the typed columns in one scan: NULLs that are not invalid
        # markers, for versions that send the feature. (NaN and ±inf are values, not problems
        # of storage: the statistics count them from the window's data.) The scan counts each
        # column's NULLs per window and version (plain aggregates, no per-row test of the
        # version); the versions that send the feature are picked here.
        counters: list[tuple[str, str, frozenset[str]]] = []  # (feature, column, versions)
        for name, column, seen in self._read(
            "SELECT f.feature, f.column_name, list(v.version) FILTER (WHERE v.version IS NOT NULL) "
            "FROM features f LEFT JOIN version_features v "
            "ON v.model = f.model AND v.feature = f.feature WHERE f.model = ? GROUP BY ALL",
            [model],
        ):
            if column is None or not seen:
                continue
            counters.append((str(name), str(column), frozenset(str(v) for v in seen)))
        if not counters:
            return out
        parts = ", ".join(f"count(*) - count({column})" for _, column, _ in counters)
        if len(windows) == 1:  # one window: a plain filter (a range join runs on one thread)
            source, window_params = f"0 AS idx, x.version, {parts} FROM {table} x", []
        else:
            source = f"w.idx, x.version, {parts} FROM {table} x JOIN {spans} w "
            source += "ON x.ts >= w.ws AND x.ts < w.we"
            window_params = span_params
        missing: list[dict[str | None, dict[str, int]]] = [{} for _ in windows]
        for idx, row_version, *nulls in self._read(
            f"SELECT {source} WHERE x.ts >= ? AND x.ts < ?{version_sql} GROUP BY ALL",
            [*window_params, lowest, highest, *version_params],
        ):
            key = row_version if by_version else None
            tally = missing[int(idx)].setdefault(key, {})
            for (name, _, versions), count in zip(counters, nulls, strict=True):
                if row_version in versions:
                    tally[name] = tally.get(name, 0) + int(count)
        for groups, found_in in zip(out, missing, strict=True):
            for key, tally in found_in.items():
                for name, _, _ in counters:
                    if name not in tally:
                        continue
                    # Invalid markers are NULL in the typed column too: they are not missing.
                    known = groups.get(key, {}).get(name, {})
                    found = (
                        tally[name] - known.get(REASON_TYPE, 0) - known.get(REASON_UNSUPPORTED, 0)
                    )
                    if found > 0:
                        groups.setdefault(key, {}).setdefault(name, {})[REASON_MISSING] = found
        return out

    def feature_types(self, model: str) -> Mapping[str, str]:
        """``{feature: type}`` with types ``numeric``, ``categorical`` or ``boolean``."""
        return {n: t for n, (c, t) in self._types(model).items() if c is not None}

    def schema_changes(self, model: str) -> pa.Table:
        """Recorded type changes: ``feature``, ``old_type``, ``new_type``, ``changed_at``."""
        return self._read_arrow(
            "SELECT feature, old_type, new_type, changed_at FROM schema_changes "
            "WHERE model = ? ORDER BY changed_at, feature",
            [model],
        )

    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DuckDBStore({self.path!r})"
