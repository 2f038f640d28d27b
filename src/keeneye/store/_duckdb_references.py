"""The DuckDB store's fitted references: the bytes of a baseline's fitted
:class:`keeneye.profile.reference.Reference`, one per model version, kept in their own table
(``fitted_references``, created on first use) so that no process re-fits a baseline."""

from __future__ import annotations

from keeneye.errors import InputError
from keeneye.store._duckdb_base import _check_model, _DuckDBBase

_CREATE = (
    "CREATE TABLE IF NOT EXISTS fitted_references ("
    "model VARCHAR NOT NULL, version VARCHAR NOT NULL, data BLOB NOT NULL, "
    "PRIMARY KEY (model, version))"
)


class _ReferencesMixin(_DuckDBBase):
    """``save_reference`` / ``load_reference`` (see :class:`~keeneye.store.base.EventStore`)."""

    _references_ready = False

    def _ensure_references(self) -> None:
        if self._references_ready:
            return
        with self._transaction() as con:
            con.execute(_CREATE)
        self._references_ready = True

    def save_reference(self, model: str, version: str, data: bytes) -> None:
        """Keep the fitted reference of a model version; replaces an earlier one."""
        _check_model(model)
        if not version:
            raise InputError("version must be a non-empty string")
        if not isinstance(data, bytes):
            raise InputError(f"a fitted reference is bytes, got {type(data).__name__}")
        self._ensure_references()
        with self._transaction() as con:
            con.execute(
                "INSERT OR REPLACE INTO fitted_references VALUES (?, ?, ?)", [model, version, data]
            )

    def load_reference(self, model: str, version: str) -> bytes | None:
        """The fitted reference saved for a model version, or ``None``."""
        self._ensure_references()
        rows = self._read(
            "SELECT data FROM fitted_references WHERE model = ? AND version = ?", [model, version]
        )
        return bytes(rows[0][0]) if rows else None
