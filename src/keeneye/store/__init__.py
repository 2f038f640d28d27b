"""Event storage: the ``EventStore`` protocol and its backends (DuckDB is the embedded default).

:func:`open_store` picks a backend from an explicit table keyed by URL scheme; a plain path
means the embedded DuckDB file.

>>> store = open_store(":memory:")
>>> type(store).__name__
'DuckDBStore'
>>> store.close()
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from keeneye.errors import ConfigError
from keeneye.store.base import EventStore
from keeneye.store.records import (
    DataSource,
    LabelEvent,
    ModelSummary,
    ModelVersion,
    PredictionEvent,
    StoredResult,
    VersionChange,
    WindowData,
    WriteReport,
)


def _open_duckdb(location: str, **options: Any) -> EventStore:
    from keeneye.store.duckdb import DuckDBStore

    return DuckDBStore(location, **options)


def _open_postgres(location: str, **options: Any) -> EventStore:
    from keeneye.store.postgres import PostgresStore

    return PostgresStore(location, **options)


def _open_opensearch(location: str, scheme: str = "opensearch", **options: Any) -> EventStore:
    """``opensearch://host:9200?rest=<duckdb path or postgresql:// URL>``: events on OpenSearch,
    the registry and results in the ``rest`` store (an in-memory DuckDB when not given)."""
    from keeneye.store.composite import CompositeStore
    from keeneye.store.opensearch import connect, parse_url
    from keeneye.store.opensearch.eventlog import OpenSearchEventLog

    settings = parse_url(f"{scheme}://{location}")
    rest_url = options.pop("rest", None) or settings.rest or ":memory:"
    events = OpenSearchEventLog(
        connect(settings),
        namespace=settings.namespace,
        shards=settings.shards,
        replicas=settings.replicas,
        retention_days=settings.retention_days,
        **{k: v for k, v in options.items() if k in ("clock", "type_change_after")},
    )
    return CompositeStore(events, open_store(rest_url, **options))


#: URL scheme → opener taking the rest of the URL (a plain path uses ``duckdb``).
BACKENDS: dict[str, Callable[..., EventStore]] = {
    "duckdb": _open_duckdb,
    "postgresql": _open_postgres,
    "postgres": _open_postgres,
    "opensearch": _open_opensearch,
    "opensearch+https": lambda location, **options: _open_opensearch(
        location, "opensearch+https", **options
    ),
}


def open_store(url_or_path: str | Path, **options: Any) -> EventStore:
    """Open the store at a path (DuckDB file) or URL such as ``duckdb:///var/lib/keeneye.duckdb``.

    ``options`` go to the backend (e.g. ``clock`` for DuckDB). An unknown scheme raises
    :class:`~keeneye.errors.ConfigError` listing the known ones.
    """
    text = str(url_or_path)
    scheme, sep, rest = text.partition("://")
    if not sep:
        return BACKENDS["duckdb"](text, **options)
    opener = BACKENDS.get(scheme)
    if opener is None:
        raise ConfigError(
            f"unknown store URL scheme {scheme!r} in {text!r}; use a file path or one of: "
            + ", ".join(f"{name}://" for name in sorted(BACKENDS))
        )
    if opener is _open_postgres:
        return opener(text, **options)  # psycopg takes the whole URL
    # duckdb:///abs/path and duckdb://relative/path both name a file.
    return opener(rest or ":memory:", **options)


__all__ = [
    "BACKENDS",
    "DataSource",
    "EventStore",
    "LabelEvent",
    "ModelSummary",
    "ModelVersion",
    "PredictionEvent",
    "StoredResult",
    "VersionChange",
    "WindowData",
    "WriteReport",
    "open_store",
]
