"""The PostgreSQL store's event log: predictions, labels, windows, counts and retention.

Writers of one model hold its advisory lock for their transaction, so collectors in several
processes extend the feature catalog one at a time and an event id is stored once (the
``(model, event_id)`` key, ``ON CONFLICT DO NOTHING`` for a retried batch). A batch is copied
with ``COPY``; the write returns after ``COMMIT``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pyarrow as pa

from keeneye.errors import InputError
from keeneye.store._batch import (
    ARROW_TYPES,
    TIMESTAMP,
    FeatureState,
    InvalidValue,
    prepare_predictions,
    utc,
)
from keeneye.store._pg_arrow import fetch_arrow
from keeneye.store._pg_base import Connection, _check_model, _PostgresBase
from keeneye.store._pg_schema import ARRAY_COLUMNS, LABEL_COLUMNS, PREDICTION_COLUMNS
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
from keeneye.store.records import LabelEvent, PredictionEvent, WindowData, WriteReport

_EVENT_COLUMNS = (
    "model, event_id, version, ts, received_at, prediction_num, prediction_str, "
    "prediction_bool, probabilities, latency_seconds, nums, strs, bools"
)
_KINDS = (NUMERIC, CATEGORICAL, BOOLEAN)
#: The types of ``_EVENT_COLUMNS`` for a binary COPY: psycopg's binary dumpers are several
#: times cheaper than its text ones, above all for the feature arrays (6 against 34 µs of
#: client CPU per event of 20 features).
_EVENT_TYPES = (
    "text", "text", "text", "timestamptz", "timestamptz", "float8", "text", "bool", "text",
    "float8", "float8[]", "text[]", "bool[]",
)  # fmt: skip
_COPY_OPTIONS = "(FORMAT BINARY)"


def _micros(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


class _EventsMixin(_PostgresBase):
    """Event log (see :class:`~keeneye.store.postgres.PostgresStore`)."""

    # -- writes -------------------------------------------------------------------------------
    def write_predictions(self, model: str, events: Sequence[PredictionEvent]) -> WriteReport:
        """Store a batch atomically; an ``event_id`` already stored counts as a duplicate."""
        _check_model(model)
        if not events:
            return WriteReport(stored=0)
        with self._transaction() as con:
            self._lock_model(con, model)
            self._ensure_model(con, model)
            info = self._catalog(con, model)
            received = self._now()
            schemas: dict[str, frozenset[str] | None] = {}

            def schema_of(version: str) -> frozenset[str] | None:
                if version not in schemas:
                    row = con.execute(
                        "SELECT columns FROM baselines WHERE model = %s AND version = %s",
                        [model, version],
                    ).fetchone()
                    schemas[version] = None if row is None else frozenset(row[0])
                return schemas[version]

            batch = prepare_predictions(
                events,
                info.states,
                schema_of=schema_of,
                type_change_after=self._type_change_after,
                known_pairs=info.version_features,
            )
            slots = dict(info.slots)
            for name in batch.new_features:
                state = batch.states[name]
                slot = None
                if name not in RESERVED_NAMES:
                    slot = 1 + max((s for k, s in slots.values() if k == state.type), default=0)
                    slots[name] = (state.type, slot)
                con.execute(
                    "INSERT INTO features VALUES (%s, %s, %s, %s, %s, NULL, 0, NULL)",
                    [model, name, state.type, slot, received],
                )
            for name, state in batch.states.items():
                if name not in batch.new_features and state == info.states.get(name):
                    continue
                con.execute(
                    "UPDATE features SET streak_type = %s, streak = %s, reported_type = %s "
                    "WHERE model = %s AND feature = %s",
                    [state.streak_type, state.streak, state.reported_type, model, name],
                )
            for feature, old, new in batch.type_changes:
                con.execute(
                    "INSERT INTO schema_changes VALUES (%s, %s, %s, %s, %s)",
                    [model, feature, old, new, received],
                )
            rows = self._event_rows(model, received, batch.system, batch.features, slots)
            inserted = self._insert_events(con, rows)
            invalid = [r for r in batch.invalid if r.event_id in inserted]
            self._insert_invalid(con, model, invalid)
            new_pairs = batch.version_features - info.version_features
            if new_pairs:
                con.cursor().executemany(
                    "INSERT INTO version_features VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                    [[model, v, f] for v, f in sorted(new_pairs)],
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
                con.cursor().executemany(
                    "INSERT INTO versions (model, version, registered_at) VALUES (%s, %s, %s) "
                    "ON CONFLICT DO NOTHING",
                    [[model, v, received] for v in sorted(new_versions)],
                )
        counts: dict[str, int] = {}
        for row in invalid:
            counts[row.feature] = counts.get(row.feature, 0) + 1
        return WriteReport(
            stored=len(inserted), duplicates=len(events) - len(inserted), invalid_values=counts
        )

    @staticmethod
    def _event_rows(
        model: str,
        received: datetime,
        system: Mapping[str, pa.Array],
        features: Mapping[str, pa.Array],
        slots: Mapping[str, tuple[str, int]],
    ) -> list[list[Any]]:
        n = len(system["event_id"])
        arrays: dict[str, list[Any]] = {}
        for kind in _KINDS:
            size = max((s for k, s in slots.values() if k == kind), default=0)
            columns: list[list[Any]] = [[None] * n for _ in range(size)]
            used = False
            for name, array in features.items():
                found = slots.get(name)
                if found is not None and found[0] == kind:
                    columns[found[1] - 1] = array.to_pylist()
                    used = True
            arrays[kind] = list(map(list, zip(*columns, strict=True))) if used else [None] * n
        plain = {name: system[name].to_pylist() for name in system}
        return [
            list(row)
            for row in zip(
                [model] * n,
                plain["event_id"],
                plain["version"],
                plain["ts"],
                [received] * n,
                plain["prediction_num"],
                plain["prediction_str"],
                plain["prediction_bool"],
                plain["probabilities"],
                plain["latency_seconds"],
                arrays[NUMERIC],
                arrays[CATEGORICAL],
                arrays[BOOLEAN],
                strict=True,
            )
        ]

    @staticmethod
    def _insert_events(con: Connection, rows: Sequence[Sequence[Any]]) -> set[str]:
        """COPY the rows in; a batch that meets stored ids is redone skipping them."""
        try:
            with (
                con.transaction(),
                con.cursor().copy(
                    f"COPY events ({_EVENT_COLUMNS}) FROM STDIN {_COPY_OPTIONS}"
                ) as copy,
            ):
                copy.set_types(_EVENT_TYPES)
                for row in rows:
                    copy.write_row(row)
            return {str(row[1]) for row in rows}
        except psycopg.errors.UniqueViolation:
            pass  # a retried batch (or one a second collector got too): skip stored ids
        con.execute(
            "CREATE TEMP TABLE IF NOT EXISTS keeneye_batch (LIKE events) ON COMMIT DELETE ROWS"
        )
        with con.cursor().copy(
            f"COPY keeneye_batch ({_EVENT_COLUMNS}) FROM STDIN {_COPY_OPTIONS}"
        ) as copy:
            copy.set_types(_EVENT_TYPES)
            for row in rows:
                copy.write_row(row)
        inserted = con.execute(
            f"INSERT INTO events ({_EVENT_COLUMNS}) SELECT {_EVENT_COLUMNS} FROM keeneye_batch "
            "ON CONFLICT (model, event_id) DO NOTHING RETURNING event_id"
        ).fetchall()
        con.execute("DELETE FROM keeneye_batch")
        return {str(r[0]) for r in inserted}

    @staticmethod
    def _insert_invalid(con: Connection, model: str, rows: Sequence[InvalidValue]) -> None:
        if not rows:
            return
        with con.cursor().copy(
            "COPY invalid_values (model, event_id, feature, raw, reason, ts, version) FROM STDIN"
        ) as copy:
            for r in rows:
                copy.write_row(
                    [model, r.event_id, r.feature, r.raw, r.reason, r.timestamp, r.version]
                )

    def write_labels(self, model: str, labels: Sequence[LabelEvent]) -> WriteReport:
        """Store labels; a label may arrive before its prediction (or at another collector than
        its prediction); a repeat replaces the old one."""
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
        ids = list(latest)
        with self._transaction() as con:
            self._lock_model(con, model)
            self._ensure_model(con, model)
            received = self._now()
            row = con.execute(
                "SELECT kind FROM features WHERE model = %s AND feature = %s", [model, LABEL_KEY]
            ).fetchone()
            state = None if row is None else FeatureState(LABEL_KEY, str(row[0]))
            new_state = state is None
            invalid: list[InvalidValue] = []
            values: list[list[Any]] = []
            for label in latest.values():
                kind = value_type(label.label)
                typed: dict[str, Any] = {k: None for k in _KINDS}
                if kind in typed:
                    typed[kind] = as_float(label.label) if kind == NUMERIC else label.label
                if kind is not None:
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
                values.append(
                    [
                        model,
                        label.event_id,
                        typed[NUMERIC],
                        typed[CATEGORICAL],
                        typed[BOOLEAN],
                        raw_text(label.label),
                        label.timestamp.astimezone(UTC),
                        received,
                    ]
                )
            if new_state and state is not None:
                con.execute(
                    "INSERT INTO features VALUES (%s, %s, %s, NULL, %s, NULL, 0, NULL)",
                    [model, LABEL_KEY, state.type, received],
                )
            existing = {
                str(r[0])
                for r in con.execute(
                    "SELECT event_id FROM labels WHERE model = %s AND event_id = ANY(%s)",
                    [model, ids],
                )
            }
            present_row = con.execute(
                "SELECT count(*) FROM events WHERE model = %s AND event_id = ANY(%s)", [model, ids]
            ).fetchone()
            present = int(present_row[0]) if present_row else 0
            if existing:
                con.execute(
                    "DELETE FROM invalid_values WHERE model = %s AND feature = %s AND "
                    "event_id = ANY(%s)",
                    [model, LABEL_KEY, list(existing)],
                )
            con.cursor().executemany(
                "INSERT INTO labels VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 0) "
                "ON CONFLICT (model, event_id) DO UPDATE SET label_num = excluded.label_num, "
                "label_str = excluded.label_str, label_bool = excluded.label_bool, "
                "label_raw = excluded.label_raw, label_ts = excluded.label_ts, "
                "received_at = excluded.received_at, revisions = labels.revisions + 1",
                values,
            )
            self._insert_invalid(con, model, invalid)
        counts: dict[str, int] = {LABEL_KEY: len(invalid)} if invalid else {}
        return WriteReport(
            stored=len(latest),
            replaced=len(existing) + in_batch_repeats,
            invalid_values=counts,
            pending=len(latest) - present,
        )

    # -- reads --------------------------------------------------------------------------------
    def read_window(
        self,
        model: str,
        start: datetime,
        end: datetime,
        *,
        version: str | None = None,
        features: Sequence[str] | None = None,
    ) -> WindowData:
        """Rows with ``start <= timestamp < end``, ordered by timestamp then event id; a
        requested feature never stored comes back as an all-null column."""
        start, end = utc(start, "start"), utc(end, "end")
        self._require_model(model)
        kinds = self._kinds(model)
        slots = self._committed_slots(model)
        pred_kind = kinds.get(PREDICTION_KEY, NUMERIC)
        label_kind = kinds.get(LABEL_KEY, NUMERIC)
        wanted = list(slots) if features is None else list(features)
        selected = [(n, slots[n]) for n in wanted if n in slots]
        feature_sql = "".join(f", e.{ARRAY_COLUMNS[k]}[{s}]" for _, (k, s) in selected)
        sql = (
            f"SELECT e.event_id, e.version, e.ts, e.{PREDICTION_COLUMNS[pred_kind]}, "
            f"e.probabilities, e.latency_seconds, l.{LABEL_COLUMNS[label_kind]}, "
            f"l.label_ts{feature_sql} FROM events e LEFT JOIN labels l "
            "ON l.model = e.model AND l.event_id = e.event_id "
            "WHERE e.model = $1 AND e.ts >= $2 AND e.ts < $3"
        )
        params: list[Any] = [model, start, end]
        if version is not None:
            sql += " AND e.version = $4"
            params.append(version)
        self._check_open()
        result = fetch_arrow(self._dsn, self.url, sql + " ORDER BY e.ts, e.event_id", params)
        types: list[pa.DataType] = [
            pa.string(),
            pa.string(),
            TIMESTAMP,
            ARROW_TYPES[pred_kind],
            pa.string(),
            pa.float64(),
            ARROW_TYPES[label_kind],
            TIMESTAMP,
        ] + [ARROW_TYPES[k] for _, (k, _) in selected]
        arrays = [result.column(i).combine_chunks().cast(t) for i, t in enumerate(types)]
        names = [
            "event_id",
            "version",
            "timestamp",
            "prediction",
            "probabilities",
            "latency_seconds",
            "label",
            "label_timestamp",
        ]
        events = pa.table(dict(zip(names, arrays[:8], strict=True)))
        by_name = {name: arrays[8 + i] for i, (name, _) in enumerate(selected)}
        table = pa.table({name: by_name.get(name, pa.nulls(result.num_rows)) for name in wanted})
        return WindowData(features=table, events=events)

    def count_events(
        self,
        model: str,
        start: datetime,
        end: datetime,
        *,
        version: str | None = None,
        bucket_seconds: int | None = None,
    ) -> pa.Table:
        """Event counts in ``[start, end)`` (see :meth:`EventLog.count_events`)."""
        start, end = utc(start, "start"), utc(end, "end")
        where = "model = %s AND ts >= %s AND ts < %s" + (
            " AND version = %s" if version is not None else ""
        )
        filters: list[Any] = [model, start, end] + ([version] if version is not None else [])
        if bucket_seconds is None:
            rows = self._read(
                f"SELECT version, count(*) FROM events WHERE {where} "
                "GROUP BY version ORDER BY version",
                filters,
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
        rows = self._read(
            "SELECT div((extract(epoch FROM ts) - extract(epoch FROM %s::timestamptz)) "
            f"* 1000000, %s) AS bucket, version, count(*) FROM events WHERE {where} "
            "GROUP BY 1, 2 ORDER BY 1, 2",
            [start, step, *filters],
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
        """Per bucket with events: ``bucket_start``, ``events``, ``labels``, ``last_label_at``."""
        start, end = utc(start, "start"), utc(end, "end")
        if bucket_seconds < 1:
            raise InputError(f"bucket_seconds must be >= 1, got {bucket_seconds}")
        label = LABEL_COLUMNS.get(self._kinds(model).get(LABEL_KEY, NUMERIC), "label_num")
        step = bucket_seconds * 1_000_000
        rows = self._read(
            "SELECT div((extract(epoch FROM e.ts) - extract(epoch FROM %s::timestamptz)) "
            f"* 1000000, %s) AS bucket, count(*), count(l.{label}), "
            f"max(l.label_ts) FILTER (WHERE l.{label} IS NOT NULL) "
            "FROM events e LEFT JOIN labels l ON l.model = e.model AND l.event_id = e.event_id "
            "WHERE e.model = %s AND e.ts >= %s AND e.ts < %s GROUP BY 1 ORDER BY 1",
            [start, step, model, start, end],
        )
        base = _micros(start)
        return pa.table(
            {
                "bucket_start": pa.array(
                    [base + int(r[0]) * step for r in rows], type=pa.int64()
                ).cast(TIMESTAMP),
                "events": pa.array([int(r[1]) for r in rows], type=pa.int64()),
                "labels": pa.array([int(r[2]) for r in rows], type=pa.int64()),
                "last_label_at": pa.array([r[3] for r in rows], type=TIMESTAMP),
            }
        )

    def invalid_value_counts(
        self, model: str, start: datetime, end: datetime, *, version: str | None = None
    ) -> Mapping[str, Mapping[str, int]]:
        """``{feature: {reason: count}}`` in the window (reasons as in the DuckDB store)."""
        window = (utc(start, "start"), utc(end, "end"))
        return self._invalid_counts(model, [window], by_version=False, version=version)[0].get(
            None, {}
        )

    def invalid_value_counts_by_window(
        self, model: str, windows: Sequence[tuple[datetime, datetime]]
    ) -> list[dict[str, dict[str, dict[str, int]]]]:
        """For each window ``{version: {feature: {reason: count}}}``, in two queries."""
        checked = [(utc(s, "start"), utc(e, "end")) for s, e in windows]
        found = self._invalid_counts(model, checked, by_version=True, version=None)
        return [{str(v): c for v, c in window.items() if v is not None} for window in found]

    def _invalid_counts(
        self,
        model: str,
        windows: Sequence[tuple[datetime, datetime]],
        *,
        by_version: bool,
        version: str | None,
    ) -> list[dict[str | None, dict[str, dict[str, int]]]]:
        out: list[dict[str | None, dict[str, dict[str, int]]]] = [{} for _ in windows]
        if not windows:
            return out
        spans = "unnest(%s::int[], %s::timestamptz[], %s::timestamptz[]) AS w(idx, ws, we)"
        span_params: list[Any] = [
            list(range(len(windows))),
            [w[0] for w in windows],
            [w[1] for w in windows],
        ]
        lowest, highest = min(w[0] for w in windows), max(w[1] for w in windows)
        group = "x.version" if by_version else "NULL::text"
        version_sql = " AND x.version = %s" if version is not None else ""
        version_params: list[Any] = [version] if version is not None else []
        for idx, key, feature, reason, count in self._read(
            f"SELECT w.idx, {group}, x.feature, x.reason, count(*) FROM invalid_values x "
            f"JOIN {spans} ON x.ts >= w.ws AND x.ts < w.we "
            f"WHERE x.model = %s AND x.ts >= %s AND x.ts < %s{version_sql} GROUP BY 1, 2, 3, 4 "
            "ORDER BY 1, 2, 3, 4",
            [*span_params, model, lowest, highest, *version_params],
        ):
            out[int(idx)].setdefault(key, {}).setdefault(str(feature), {})[str(reason)] = int(count)
        counters: list[tuple[str, str]] = []
        counter_params: list[Any] = []
        for name, kind, slot, seen in self._read(
            "SELECT f.feature, f.kind, f.slot, array_agg(v.version) FILTER "
            "(WHERE v.version IS NOT NULL) FROM features f LEFT JOIN version_features v "
            "ON v.model = f.model AND v.feature = f.feature WHERE f.model = %s "
            "GROUP BY 1, 2, 3",
            [model],
        ):
            if slot is None or not seen:
                continue
            column = f"x.{ARRAY_COLUMNS[str(kind)]}[{int(slot)}]"
            counters.append((str(name), f"{column} IS NULL AND x.version = ANY(%s)"))
            counter_params.append([str(v) for v in seen])
        if not counters:
            return out
        parts = ", ".join(f"count(*) FILTER (WHERE {sql})" for _, sql in counters)
        rows = self._read(
            f"SELECT w.idx, {group}, {parts} FROM events x "
            f"JOIN {spans} ON x.ts >= w.ws AND x.ts < w.we "
            f"WHERE x.model = %s AND x.ts >= %s AND x.ts < %s{version_sql} GROUP BY 1, 2",
            [*counter_params, *span_params, model, lowest, highest, *version_params],
        )
        for idx, key, *counts in rows:
            groups = out[int(idx)]
            for (name, _), count in zip(counters, counts, strict=True):
                found = int(count)
                known = groups.get(key, {}).get(name, {})
                found -= known.get(REASON_TYPE, 0) + known.get(REASON_UNSUPPORTED, 0)
                if found > 0:
                    groups.setdefault(key, {}).setdefault(name, {})[REASON_MISSING] = found
        return out

    def feature_types(self, model: str) -> Mapping[str, str]:
        """``{feature: type}`` with types ``numeric``, ``categorical`` or ``boolean``."""
        return {name: kind for name, (kind, _) in self._committed_slots(model).items()}

    def schema_changes(self, model: str) -> pa.Table:
        """Recorded type changes: ``feature``, ``old_type``, ``new_type``, ``changed_at``."""
        rows = self._read(
            "SELECT feature, old_type, new_type, changed_at FROM schema_changes "
            "WHERE model = %s ORDER BY changed_at, feature",
            [model],
        )
        return pa.table(
            {
                "feature": pa.array([r[0] for r in rows], type=pa.string()),
                "old_type": pa.array([r[1] for r in rows], type=pa.string()),
                "new_type": pa.array([r[2] for r in rows], type=pa.string()),
                "changed_at": pa.array([r[3] for r in rows], type=TIMESTAMP),
            }
        )

    # -- retention ----------------------------------------------------------------------------
    def delete_events_before(self, before: datetime, *, batch_size: int = 10_000) -> int:
        """Delete events (with their labels and invalid-value rows) older than ``before``, at
        most ``batch_size`` events per transaction; reports, references and alerts stay."""
        before = utc(before, "before")
        if batch_size < 1:
            raise InputError(f"batch_size must be >= 1, got {batch_size}")
        deleted = 0
        for (model,) in self._read("SELECT model FROM models ORDER BY model"):
            while True:
                with self._transaction() as con:
                    ids = [
                        str(r[0])
                        for r in con.execute(
                            "DELETE FROM events WHERE model = %s AND event_id IN ("
                            "SELECT event_id FROM events WHERE model = %s AND ts < %s LIMIT %s) "
                            "RETURNING event_id",
                            [model, model, before, batch_size],
                        )
                    ]
                    if ids:
                        con.execute(
                            "DELETE FROM labels WHERE model = %s AND event_id = ANY(%s)",
                            [model, ids],
                        )
                        con.execute(
                            "DELETE FROM invalid_values WHERE model = %s AND event_id = ANY(%s)",
                            [model, ids],
                        )
                deleted += len(ids)
                if len(ids) < batch_size:
                    break
        return deleted
