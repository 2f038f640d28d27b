"""The event log on OpenSearch / Elasticsearch: see :mod:`keeneye.store.opensearch.eventlog`."""

from __future__ import annotations

from typing import Any

from keeneye.errors import MissingExtraError
from keeneye.store.opensearch.connection import OpenSearchSettings, parse_url


def connect(settings: OpenSearchSettings) -> Any:
    """An ``opensearchpy.OpenSearch`` client for ``settings``."""
    try:
        from opensearchpy import OpenSearch

        from keeneye.store.opensearch._serializer import OrjsonSerializer
    except ImportError as exc:  # pragma: no cover - the extra is part of dev
        raise MissingExtraError("opensearchpy", "opensearch") from exc
    return OpenSearch(**settings.client_options(), serializer=OrjsonSerializer())


__all__ = ["OpenSearchSettings", "connect", "parse_url"]
