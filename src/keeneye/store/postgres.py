"""The server store: PostgreSQL through psycopg 3 and a connection pool.

Several processes share it: collectors (``keeneye server --no-analysis``), statistics and drift
workers (``keeneye worker stats|drift``) and the UI. Open it with
``open_store("postgresql://user@host:5432/keeneye")``; the schema is created and migrated on
open (numbered migrations in :mod:`keeneye.store._pg_schema`, applied once under an advisory
lock). Layout and the reasons for it: ``docs/store.md``.
"""

from __future__ import annotations

from keeneye.store._pg_events import _EventsMixin
from keeneye.store._pg_registry import _RegistryMixin
from keeneye.store._pg_results import _ResultsMixin


class PostgresStore(_EventsMixin, _RegistryMixin, _ResultsMixin):
    """An :class:`~keeneye.store.base.EventStore` on a PostgreSQL database.

    Parameters
    ----------
    url:
        ``postgresql://user[:password]@host[:port]/database`` (the password never appears in
        messages).
    clock:
        Gives "now" for receive and registration times; leases use the database's clock.
    type_change_after:
        How many consecutive values of another type record a type change of a feature.
    pool_size:
        Connections kept open for this process.
    """

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PostgresStore({self.url!r})"
