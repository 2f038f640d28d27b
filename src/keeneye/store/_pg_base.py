"""Plumbing shared by the parts of the PostgreSQL store: the connection pool, transactions with
errors as :class:`~keeneye.errors.StoreError`, migrations, and the per-model catalog that a
writer loads under the model's advisory lock."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from keeneye.clock import ClockLike, as_clock
from keeneye.errors import ConfigError, InputError, NotFoundError, StoreError
from keeneye.store._batch import FeatureState, utc
from keeneye.store._pg_schema import MIGRATION_LOCK, MIGRATIONS

try:
    import psycopg
    from psycopg_pool import ConnectionPool
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
    raise ConfigError(
        "the PostgreSQL store needs psycopg 3: pip install 'keeneye[postgres]'"
    ) from exc

Connection = psycopg.Connection[tuple[Any, ...]]


def redact(url: str) -> str:
    """The URL without its password (never put a secret in a message or a log)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


@dataclass
class _Catalog:
    """A model's features as committed, read by a writer under the model's lock."""

    states: dict[str, FeatureState] = field(default_factory=dict)
    slots: dict[str, tuple[str, int]] = field(default_factory=dict)  # feature -> (kind, slot)
    version_features: set[tuple[str, str]] = field(default_factory=set)
    versions: set[str] = field(default_factory=set)


class _PostgresBase:
    """Pool, transactions and catalog reads (see :class:`~keeneye.store.postgres.PostgresStore`)."""

    def __init__(
        self,
        url: str,
        *,
        clock: ClockLike | None = None,
        type_change_after: int = 100,
        pool_size: int = 4,
        connect_timeout: float = 10.0,
    ) -> None:
        if type_change_after < 1:
            raise InputError(f"type_change_after must be >= 1, got {type_change_after}")
        self.url = redact(url)
        self._dsn = url  # with its password: for connections only, never for messages
        self._clock = as_clock(clock)
        self._type_change_after = type_change_after
        self._closed = False
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            url,
            min_size=1,
            max_size=max(1, pool_size),
            kwargs={"options": "-c TimeZone=UTC", "connect_timeout": int(connect_timeout)},
            open=False,
            name="keeneye",
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
        except Exception as exc:
            self._pool.close()
            raise StoreError(
                f"cannot reach the PostgreSQL store {self.url}: {exc}; check that the server "
                "runs and the URL (postgresql://user@host:port/database) is right"
            ) from None
        self.migrate()

    # -- plumbing -----------------------------------------------------------------------------
    def _now(self) -> datetime:
        return utc(self._clock.now(), "the store clock's time")

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the store {self.url} is closed")

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """One transaction on a pooled connection; committed when the block ends (the write
        is acknowledged after that commit), rolled back on any error."""
        self._check_open()
        try:
            with self._pool.connection() as con, con.transaction():
                yield con
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL store {self.url}: {exc}") from exc

    def _read(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> list[tuple[Any, ...]]:
        args = params if isinstance(params, Mapping) else list(params)
        with self._transaction() as con:
            return con.execute(sql, args).fetchall()

    @staticmethod
    def _lock_model(con: Connection, model: str) -> None:
        """Serialise the writers of one model across processes (held until commit)."""
        con.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ["keeneye:" + model])

    def migrate(self) -> int:
        """Apply the migrations not applied yet (under an advisory lock); the schema version."""
        with self._transaction() as con:
            con.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATION_LOCK])
            con.execute(
                "CREATE TABLE IF NOT EXISTS keeneye_migrations ("
                "version integer PRIMARY KEY, applied_at timestamptz NOT NULL)"
            )
            done = {int(v) for (v,) in con.execute("SELECT version FROM keeneye_migrations")}
            for number in sorted(MIGRATIONS):
                if number in done:
                    continue
                for statement in MIGRATIONS[number]:
                    con.execute(statement)
                con.execute("INSERT INTO keeneye_migrations VALUES (%s, %s)", [number, self._now()])
            row = con.execute("SELECT max(version) FROM keeneye_migrations").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def schema_version(self) -> int:
        """The newest migration applied to this database."""
        row = self._read("SELECT max(version) FROM keeneye_migrations")
        return int(row[0][0])

    def _ensure_model(self, con: Connection, model: str) -> None:
        con.execute(
            "INSERT INTO models VALUES (%s, %s) ON CONFLICT DO NOTHING", [model, self._now()]
        )

    def _catalog(self, con: Connection, model: str) -> _Catalog:
        info = _Catalog()
        for name, kind, slot, streak_type, streak, reported in con.execute(
            "SELECT feature, kind, slot, streak_type, streak, reported_type FROM features "
            "WHERE model = %s",
            [model],
        ):
            info.states[name] = FeatureState(name, kind, streak_type, int(streak), reported)
            if slot is not None:
                info.slots[name] = (kind, int(slot))
        info.version_features = {
            (str(v), str(f))
            for v, f in con.execute(
                "SELECT version, feature FROM version_features WHERE model = %s", [model]
            )
        }
        info.versions = {
            str(v) for (v,) in con.execute("SELECT version FROM versions WHERE model = %s", [model])
        }
        return info

    def _committed_slots(self, model: str) -> dict[str, tuple[str, int]]:
        return {
            str(n): (str(k), int(s))
            for n, k, s in self._read(
                "SELECT feature, kind, slot FROM features WHERE model = %s AND slot IS NOT NULL",
                [model],
            )
        }

    def _kinds(self, model: str) -> dict[str, str]:
        return {
            str(n): str(k)
            for n, k in self._read("SELECT feature, kind FROM features WHERE model = %s", [model])
        }

    def _require_model(self, model: str) -> None:
        if not self._read("SELECT 1 FROM models WHERE model = %s", [model]):
            raise NotFoundError(f"model {model!r} has no events or versions in this store")

    def close(self) -> None:
        """Close the pool (idempotent); later calls raise :class:`~keeneye.errors.StoreError`."""
        if self._closed:
            return
        self._closed = True
        self._pool.close()


def _check_model(model: str) -> None:
    if not isinstance(model, str) or not model:
        raise InputError(f"model name must be a non-empty string, got {model!r}")
