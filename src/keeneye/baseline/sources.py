"""Baselines named by a URI (``dvc://…``, ``feast://…``): the table of resolvers, one module
each, and :class:`Origin`, what a resolver learnt about where the table came from (kept as the
version's lineage by :func:`keeneye.baseline.register.register_baseline`).

>>> source_scheme("dvc:///srv/repo/data/train.parquet@v1")
'dvc'
>>> source_scheme("train.parquet") is None
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from keeneye.errors import InputError


@dataclass(frozen=True)
class Origin:
    """Where a baseline table came from, as far as its reader knows."""

    kind: str  # "file" | "upload" | "table" | "dvc" | "feast" | "mlflow"
    uri: str
    file_hash: str | None = None
    revision: str | None = None
    commit: str | None = None
    feature_service: str | None = None
    features: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class Resolved:
    """A source URI read: the table and where it came from."""

    table: pa.Table
    origin: Origin


def _read_dvc(uri: str) -> Resolved:
    from keeneye.baseline.dvc import read_dvc

    return read_dvc(uri)


def _read_feast(uri: str) -> Resolved:
    from keeneye.baseline.feast import read_feast

    return read_feast(uri)


#: Scheme → resolver. A scheme is recognised only with ``://``.
RESOLVERS: dict[str, Callable[[str], Resolved]] = {"dvc": _read_dvc, "feast": _read_feast}


def source_scheme(source: object) -> str | None:
    """The scheme of a source URI keeneye resolves (``"dvc"``), or ``None`` for anything else
    (a path, a table)."""
    if not isinstance(source, str):
        return None
    scheme, sep, _ = source.partition("://")
    return scheme.lower() if sep and scheme.lower() in RESOLVERS else None


def resolve_source(uri: str) -> Resolved:
    """Read the table a source URI names; raises :class:`~keeneye.errors.InputError` for an
    unknown scheme."""
    scheme = source_scheme(uri)
    if scheme is None:
        known = ", ".join(f"{s}://" for s in sorted(RESOLVERS))
        raise InputError(f"baseline source {uri!r}: use a URI starting with {known}")
    return RESOLVERS[scheme](uri)


def file_origin(path: Path) -> Origin:
    """A local file: its absolute path and the sha256 of its bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return Origin(kind="file", uri=str(path.resolve()), file_hash=digest.hexdigest())
