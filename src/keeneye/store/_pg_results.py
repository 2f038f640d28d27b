"""The PostgreSQL store's results, alert history, leases and service heartbeats.

Leases and heartbeats use the database's clock (``clock_timestamp()``): every process sharing
the store then agrees on when a claim lapses, whatever its own clock says.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from keeneye.errors import InputError
from keeneye.store._batch import utc
from keeneye.store._payloads import PayloadMemo
from keeneye.store._pg_base import _PostgresBase
from keeneye.store._values import dumps
from keeneye.store.records import (
    REPORTS_TABLE,
    RESULT_TABLES,
    ServiceBeat,
    StoredResult,
    result_table,
)


def _source(kind: str | None) -> str:
    """The table (or union of tables) that holds results of ``kind`` (``None``: every kind)."""
    if kind is not None:
        return result_table(kind)
    tables = [REPORTS_TABLE, *RESULT_TABLES.values()]
    return "(" + " UNION ALL ".join(f"SELECT * FROM {t}" for t in tables) + ")"


class _ResultsMixin(_PostgresBase):
    """Results, alerts, leases (see :class:`~keeneye.store.postgres.PostgresStore`)."""

    def save_results(self, results: Sequence[StoredResult]) -> None:
        """Upsert by (model, version, kind, window_start, window_end); the last of a repeated
        key wins."""
        if not results:
            return
        unique: dict[tuple[Any, ...], list[Any]] = {}
        for r in results:
            row = [
                r.model,
                r.version,
                r.kind,
                utc(r.window_start, "window_start"),
                utc(r.window_end, "window_end"),
                utc(r.computed_at, "computed_at"),
                dumps(dict(r.payload)),
            ]
            unique[tuple(row[:5])] = row
        by_table: dict[str, list[list[Any]]] = {}
        for row in unique.values():
            by_table.setdefault(result_table(str(row[2])), []).append(row)
        with self._transaction() as con:
            for table, rows in by_table.items():
                columns = list(zip(*rows, strict=True))
                con.execute(
                    f"INSERT INTO {table} SELECT * FROM unnest(%s::text[], %s::text[], "
                    "%s::text[], %s::timestamptz[], %s::timestamptz[], %s::timestamptz[], "
                    "%s::text[]) ON CONFLICT (model, kind, version, window_start, window_end) "
                    "DO UPDATE SET computed_at = excluded.computed_at, payload = excluded.payload",
                    [list(c) for c in columns],
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
        """Results whose window lies in ``[start, end]``, ordered by window, kind, version."""
        sql = (
            "SELECT model, version, kind, window_start, window_end, computed_at, payload "
            f"FROM {_source(kind)} AS r WHERE model = %s"
        )
        params: list[Any] = [model]
        for column, value, op in (
            ("kind", kind, "="),
            ("version", version, "="),
            ("window_start", start, ">="),
            ("window_end", end, "<="),
        ):
            if value is not None:
                sql += f" AND {column} {op} %s"
                params.append(value)
        if windows is not None:
            sql += (
                " AND (window_start, window_end) IN (SELECT * FROM "
                "unnest(%s::timestamptz[], %s::timestamptz[]))"
            )
            params.append([utc(w[0], "window start") for w in windows])
            params.append([utc(w[1], "window end") for w in windows])
        return [
            StoredResult(
                model=str(m),
                version=str(v),
                kind=str(k),
                window_start=ws,
                window_end=we,
                computed_at=ca,
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
                "INSERT INTO alerts (model, alert_at, payload) VALUES (%s, %s, %s)",
                [None if model is None else str(model), at_value, dumps(dict(alert))],
            )

    def list_alerts(self, model: str | None = None, *, limit: int = 1000) -> list[dict[str, Any]]:
        """The newest ``limit`` alert records, newest first."""
        sql = "SELECT payload FROM alerts"
        params: list[Any] = []
        if model is not None:
            sql += " WHERE model = %s"
            params.append(model)
        sql += " ORDER BY alert_at DESC NULLS LAST, seq DESC LIMIT %s"
        params.append(int(limit))
        return [json.loads(p) for (p,) in self._read(sql, params)]

    # -- leases and heartbeats ----------------------------------------------------------------
    def claim(self, key: str, owner: str, ttl_seconds: float) -> bool:
        """Take ``key`` for ``owner`` unless another owner holds an unexpired claim."""
        rows = self._read(
            "INSERT INTO leases VALUES (%s, %s, clock_timestamp() + make_interval(secs => %s)) "
            "ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at = "
            "excluded.expires_at WHERE leases.owner = excluded.owner "
            "OR leases.expires_at <= clock_timestamp() RETURNING owner",
            [key, owner, float(ttl_seconds)],
        )
        return bool(rows)

    def renew(self, key: str, owner: str, ttl_seconds: float) -> bool:
        """Extend ``owner``'s claim; ``False`` when another owner holds the key now."""
        rows = self._read(
            "UPDATE leases SET expires_at = clock_timestamp() + make_interval(secs => %s) "
            "WHERE key = %s AND owner = %s RETURNING key",
            [float(ttl_seconds), key, owner],
        )
        return bool(rows)

    def release(self, key: str, owner: str) -> None:
        """Give up ``owner``'s claim on ``key``."""
        self._read("DELETE FROM leases WHERE key = %s AND owner = %s RETURNING key", [key, owner])

    def heartbeat(self, service: str, owner: str, info: Mapping[str, Any]) -> None:
        """Record that process ``owner`` of ``service`` is alive now."""
        self._read(
            "INSERT INTO services VALUES (%s, %s, clock_timestamp(), clock_timestamp(), %s) "
            "ON CONFLICT (owner) DO UPDATE SET beat_at = excluded.beat_at, "
            "service = excluded.service, info = excluded.info RETURNING owner",
            [owner, service, dumps(dict(info))],
        )

    def services(self, within_seconds: float) -> list[ServiceBeat]:
        """Processes whose last heartbeat is at most ``within_seconds`` old, by service."""
        return [
            ServiceBeat(str(s), str(o), b, st, json.loads(i))
            for s, o, b, st, i in self._read(
                "SELECT service, owner, beat_at, started_at, info FROM services WHERE beat_at >= "
                "clock_timestamp() - make_interval(secs => %s) ORDER BY service, owner",
                [float(within_seconds)],
            )
        ]
