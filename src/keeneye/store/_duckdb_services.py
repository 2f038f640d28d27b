"""The DuckDB store's leases, service heartbeats, fitted references and retention.

One process holds a DuckDB file, so leases here share work between the threads (runners) of
that process; they use the wall clock (as the PostgreSQL store uses the database's), never the
injected store clock, because a claim must lapse in real time when its holder dies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from keeneye.clock import SYSTEM_CLOCK
from keeneye.errors import InputError
from keeneye.store._batch import utc
from keeneye.store._duckdb_base import _check_model, _DuckDBBase
from keeneye.store._values import dumps
from keeneye.store.records import ServiceBeat


def _wall() -> datetime:
    """Leases and heartbeats are shared between processes: the wall clock, not the store's."""
    return SYSTEM_CLOCK.now()


class _ServicesMixin(_DuckDBBase):
    """Leases, heartbeats, references, retention (see :class:`DuckDBStore`)."""

    def claim(self, key: str, owner: str, ttl_seconds: float) -> bool:
        """Take ``key`` for ``owner`` unless another owner holds an unexpired claim."""
        now = _wall()
        with self._transaction() as con:
            row = con.execute(
                "SELECT owner, expires_at FROM leases WHERE key = ?", [key]
            ).fetchall()
            if row and row[0][0] != owner and row[0][1] > now:
                return False
            con.execute(
                "INSERT OR REPLACE INTO leases VALUES (?, ?, ?)",
                [key, owner, now + timedelta(seconds=float(ttl_seconds))],
            )
        return True

    def renew(self, key: str, owner: str, ttl_seconds: float) -> bool:
        """Extend ``owner``'s claim; ``False`` when another owner holds the key now."""
        with self._transaction() as con:
            row = con.execute("SELECT owner FROM leases WHERE key = ?", [key]).fetchall()
            if not row or row[0][0] != owner:
                return False
            con.execute(
                "UPDATE leases SET expires_at = ? WHERE key = ?",
                [_wall() + timedelta(seconds=float(ttl_seconds)), key],
            )
        return True

    def release(self, key: str, owner: str) -> None:
        """Give up ``owner``'s claim on ``key``."""
        with self._transaction() as con:
            con.execute("DELETE FROM leases WHERE key = ? AND owner = ?", [key, owner])

    def heartbeat(self, service: str, owner: str, info: Mapping[str, Any]) -> None:
        """Record that process ``owner`` of ``service`` is alive now."""
        now = _wall()
        with self._transaction() as con:
            con.execute(
                "INSERT INTO services VALUES (?, ?, ?, ?, ?) ON CONFLICT (owner) DO UPDATE SET "
                "beat_at = excluded.beat_at, service = excluded.service, info = excluded.info",
                [owner, service, now, now, dumps(dict(info))],
            )

    def services(self, within_seconds: float) -> list[ServiceBeat]:
        """Processes whose last heartbeat is at most ``within_seconds`` old, by service."""
        since = _wall() - timedelta(seconds=float(within_seconds))
        return [
            ServiceBeat(str(s), str(o), b, st, json.loads(i))
            for s, o, b, st, i in self._read(
                "SELECT service, owner, beat_at, started_at, info FROM services "
                "WHERE beat_at >= ? ORDER BY service, owner",
                [since],
            )
        ]

    def save_reference(self, model: str, version: str, data: bytes) -> None:
        """Keep the fitted (serialised) reference of a version; replaces an earlier one."""
        _check_model(model)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InputError(f"a fitted reference must be bytes, got {type(data).__name__}")
        with self._transaction() as con:
            con.execute(
                "INSERT OR REPLACE INTO fitted_references VALUES (?, ?, ?, ?)",
                [model, version, bytes(data), self._now()],
            )

    def load_reference(self, model: str, version: str) -> bytes | None:
        """The stored fitted reference of a version, or ``None``."""
        rows = self._read(
            "SELECT data FROM fitted_references WHERE model = ? AND version = ?", [model, version]
        )
        return bytes(rows[0][0]) if rows else None

    def delete_events_before(self, before: datetime, *, batch_size: int = 10_000) -> int:
        """Delete events (with their labels and invalid-value rows) older than ``before``, at
        most ``batch_size`` events per transaction; reports, references and alerts stay."""
        before = utc(before, "before")
        if batch_size < 1:
            raise InputError(f"batch_size must be >= 1, got {batch_size}")
        deleted = 0
        for model, table in self._read("SELECT model, table_name FROM models ORDER BY model"):
            while True:
                with self._transaction() as con:
                    ids = [
                        str(r[0])
                        for r in con.execute(
                            f"DELETE FROM {table} WHERE event_id IN (SELECT event_id FROM "
                            f"{table} WHERE ts < ? LIMIT ?) RETURNING event_id",
                            [before, batch_size],
                        ).fetchall()
                    ]
                    if ids:
                        con.execute(
                            "DELETE FROM labels WHERE model = ? AND list_contains(?, event_id)",
                            [model, ids],
                        )
                        con.execute(
                            "DELETE FROM invalid_values WHERE model = ? AND "
                            "list_contains(?, event_id)",
                            [model, ids],
                        )
                deleted += len(ids)
                if len(ids) < batch_size:
                    break
        return deleted
