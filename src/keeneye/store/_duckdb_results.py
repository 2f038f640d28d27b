"""The DuckDB store's baselines, analysis results and alert history."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from keeneye.errors import InputError
from keeneye.store._batch import TIMESTAMP, utc
from keeneye.store._duckdb_base import _check_model, _DuckDBBase, _registered
from keeneye.store._payloads import PayloadMemo
from keeneye.store._values import dumps
from keeneye.store.records import REPORTS_TABLE, RESULT_TABLES, StoredResult, result_table


def _source(kind: str | None) -> str:
    """The table (or union of tables) that holds results of ``kind`` (``None``: every kind)."""
    if kind is not None:
        return result_table(kind)
    tables = [REPORTS_TABLE, *RESULT_TABLES.values()]
    return "(" + " UNION ALL ".join(f"SELECT * FROM {t}" for t in tables) + ")"


#: The epoch in the time zone DuckDB gives TIMESTAMPTZ values (the session's, UTC).
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))

#: Columns of the ``results`` table, in order, with their Arrow types.
_RESULT_COLUMNS: dict[str, pa.DataType] = {
    "model": pa.string(),
    "version": pa.string(),
    "kind": pa.string(),
    "window_start": TIMESTAMP,
    "window_end": TIMESTAMP,
    "computed_at": TIMESTAMP,
    "payload": pa.string(),
}


#: The upsert key of ``results``.
_RESULT_KEY = ("model", "version", "kind", "window_start", "window_end")


class _ResultsMixin(_DuckDBBase):
    """Baselines, results and alerts (see :class:`~keeneye.store.duckdb.DuckDBStore`)."""

    # -- baselines ----------------------------------------------------------------------------
    def save_baseline(self, model: str, version: str, table: pa.Table) -> None:
        """Keep the training data of a model version as a DuckDB table; replaces an earlier one.

        Its column names become the version's registered schema: features outside it are then
        counted as ``unknown_feature``.
        """
        _check_model(model)
        if not isinstance(table, pa.Table):
            raise InputError(f"a baseline must be a pyarrow.Table, got {type(table).__name__}")
        with self._transaction() as con:
            self._writer_model(con, model)
            old = con.execute(
                "SELECT table_name FROM baselines WHERE model = ? AND version = ?",
                [model, version],
            ).fetchall()
            seq = con.execute("SELECT nextval('baseline_seq')").fetchall()[0][0]
            name = f"baseline_{int(seq)}"
            with _registered(con, "_keeneye_baseline", table):
                con.execute(f"CREATE TABLE {name} AS SELECT * FROM _keeneye_baseline")
            if old:
                con.execute(f"DROP TABLE {old[0][0]}")
            con.execute(
                "INSERT OR REPLACE INTO baselines VALUES (?, ?, ?, ?, ?)",
                [model, version, name, self._now(), table.num_rows],
            )
            con.execute(
                "INSERT OR IGNORE INTO versions (model, version, registered_at) VALUES (?, ?, ?)",
                [model, version, self._now()],
            )
        self._schemas[(model, version)] = frozenset(table.column_names)
        # Batches typed before this baseline (outside the lock) must be typed again.
        self._models.pop(model, None)

    def load_baseline(self, model: str, version: str) -> pa.Table | None:
        """The stored training data, or ``None`` when the version has none."""
        rows = self._read(
            "SELECT table_name FROM baselines WHERE model = ? AND version = ?", [model, version]
        )
        if not rows:
            return None
        return self._read_arrow(f"SELECT * FROM {rows[0][0]}")

    # -- analysis results and alerts ----------------------------------------------------------
    def save_results(self, results: Sequence[StoredResult]) -> None:
        """Upsert by (model, version, kind, window_start, window_end)."""
        if not results:
            return
        columns: dict[str, list[Any]] = {name: [] for name in _RESULT_COLUMNS}
        # The last result of a repeated key wins (as if the results were saved one by one).
        unique: dict[tuple[Any, ...], int] = {}
        for r in results:
            row = (
                r.model,
                r.version,
                r.kind,
                utc(r.window_start, "window_start"),
                utc(r.window_end, "window_end"),
                utc(r.computed_at, "computed_at"),
                dumps(dict(r.payload)),
            )
            key = row[:5]
            if key in unique:
                for values, value in zip(columns.values(), row, strict=True):
                    values[unique[key]] = value
                continue
            unique[key] = len(columns["model"])
            for values, value in zip(columns.values(), row, strict=True):
                values.append(value)
        table = pa.table(
            {name: pa.array(values, type=_RESULT_COLUMNS[name]) for name, values in columns.items()}
        )
        # One bulk upsert per table per call from the registered Arrow table (a row-by-row
        # ``executemany`` upsert costs milliseconds per row; measured in docs/benchmarks.md,
        # UPDATE … FROM + an anti-joined INSERT beats ``ON CONFLICT`` and DELETE + INSERT).
        targets = [result_table(kind) for kind in table.column("kind").to_pylist()]
        with self._transaction() as con:
            for target in dict.fromkeys(targets):
                part = table.filter(pa.array([t == target for t in targets]))
                match = " AND ".join(f"{target}.{c} = b.{c}" for c in _RESULT_KEY)
                with _registered(con, "_keeneye_results", part):
                    con.execute(
                        f"UPDATE {target} SET computed_at = b.computed_at, payload = b.payload "
                        f"FROM _keeneye_results b WHERE {match}"
                    )
                    con.execute(
                        f"INSERT INTO {target} SELECT * FROM _keeneye_results ANTI JOIN "
                        f"{target} USING ({', '.join(_RESULT_KEY)})"
                    )

    def _parsed(self, key: tuple[Any, ...], text: str) -> dict[str, Any]:
        """A stored payload, parsed once while its text stays the same (see
        :mod:`keeneye.store._payloads`)."""
        memo: PayloadMemo | None = getattr(self, "_payload_memo", None)
        if memo is None:
            memo = self._payload_memo = PayloadMemo()
        return memo.parse(key, text)

    def load_results(
        self,
        model: str,
        *,
        kind: str | None = None,
        version: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        windows: Sequence[tuple[datetime, datetime]] | None = None,
    ) -> list[StoredResult]:
        """Results whose window lies in ``[start, end)``, ordered by window then kind; with
        ``windows``, only results of exactly these ``(window_start, window_end)`` (a daily
        window's results without those of the hours inside it)."""
        # Times as integer microseconds, turned into datetimes here: DuckDB's own conversion of
        # each TIMESTAMPTZ value costs more than the rest of the load (markers are loaded at
        # every analysis run). The datetimes are the same (UTC ``ZoneInfo``) as DuckDB's.
        sql = (
            "SELECT model, version, kind, epoch_us(window_start), epoch_us(window_end), "
            f"epoch_us(computed_at), payload FROM {_source(kind)} WHERE model = ?"
        )
        params: list[Any] = [model]
        for column, value, op in (
            ("kind", kind, "="),
            ("version", version, "="),
            ("window_start", start, ">="),
            ("window_end", end, "<="),
        ):
            if value is not None:
                sql += f" AND {column} {op} ?"
                params.append(value)
        if windows is not None:
            sql += (
                " AND (window_start, window_end) IN (SELECT (unnest(?::TIMESTAMPTZ[]), "
                "unnest(?::TIMESTAMPTZ[])))"
            )
            params.append([utc(w[0], "window start") for w in windows])
            params.append([utc(w[1], "window end") for w in windows])
        times: dict[int, datetime] = {}

        def at(micros: int) -> datetime:
            found = times.get(micros)
            if found is None:
                found = times[micros] = _EPOCH_UTC + timedelta(microseconds=micros)
            return found

        return [
            StoredResult(
                model=str(m),
                version=str(v),
                kind=str(k),
                window_start=at(ws),
                window_end=at(we),
                computed_at=at(ca),
                payload=self._parsed((m, v, k, ws, we), p),
            )
            for m, v, k, ws, we, ca, p in self._read(
                sql + " ORDER BY window_start, window_end, kind, version", params
            )
        ]

    def save_alert(self, alert: Mapping[str, Any]) -> None:
        """Append one alert state change; datetimes and enums are kept as ISO text / values."""
        if not isinstance(alert, Mapping):
            raise InputError(f"an alert must be a mapping, got {type(alert).__name__}")
        at = alert.get("at")
        at_value = utc(at, "alert 'at'") if isinstance(at, datetime) else None
        if isinstance(at, str):
            try:
                at_value = utc(datetime.fromisoformat(at), "alert 'at'")
            except ValueError as exc:
                raise InputError(f"alert 'at' {at!r} is not an ISO 8601 time") from exc
        model = alert.get("model")
        with self._transaction() as con:
            con.execute(
                "INSERT INTO alerts (model, alert_at, payload) VALUES (?, ?, ?)",
                [None if model is None else str(model), at_value, dumps(dict(alert))],
            )

    def list_alerts(self, model: str | None = None, *, limit: int = 1000) -> list[dict[str, Any]]:
        """The newest ``limit`` alert records, newest first (payloads as saved, JSON types)."""
        sql = "SELECT payload FROM alerts"
        params: list[Any] = []
        if model is not None:
            sql += " WHERE model = ?"
            params.append(model)
        sql += " ORDER BY alert_at DESC NULLS LAST, seq DESC LIMIT ?"
        params.append(int(limit))
        return [json.loads(p) for (p,) in self._read(sql, params)]
