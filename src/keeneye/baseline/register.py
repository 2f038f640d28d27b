"""Register the training data of a model version as its baseline.

The table is stored as sent (through :meth:`EventStore.save_baseline`) so that exact tests and
summaries can be recomputed from it; a small ``baseline`` result records when it was registered
and a digest of its content, so every process that caches a fitted reference profile (the
embedded analysis, ``keeneye worker drift``) notices a re-registration. Where the table came
from (a file and its sha256, a DVC revision and md5 …) is appended to the version's lineage
(:meth:`Registry.record_data_source`).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from keeneye.baseline.sources import Origin, file_origin, resolve_source, source_scheme
from keeneye.clock import utc_now
from keeneye.errors import ColumnError, DataSourceError, InputError
from keeneye.store.base import EventStore
from keeneye.store.records import DataSource, StoredResult
from keeneye.tables import load_table

#: Baseline records are stored as results of this kind on a zero-length window at the epoch.
BASELINE_KIND = "baseline"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class BaselineInfo:
    """What was registered."""

    model: str
    version: str
    rows: int
    columns: tuple[str, ...]
    digest: str
    registered_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "rows": self.rows,
            "columns": list(self.columns),
            "digest": self.digest,
            "registered_at": self.registered_at.isoformat(),
        }


def register_baseline(
    store: EventStore,
    model: str,
    version: str,
    source: object,
    *,
    now: datetime | None = None,
    origin: Origin | None = None,
) -> BaselineInfo:
    """Store ``source`` (a Parquet/CSV path, a ``dvc://`` URI, a pandas/polars DataFrame, an
    Arrow table, a dict of columns) as the baseline of ``model`` version ``version``; replaces
    an earlier one. ``origin`` says where a table handed over came from (an upload); a path or
    URI is described by itself.

    Raises :class:`keeneye.errors.InputError` for an empty table or a column that mixes types.
    """
    if not model or not version:
        raise InputError("a baseline needs a model name and a version, e.g. ('churn', '3')")
    if source_scheme(source) is not None:
        resolved = resolve_source(str(source))
        source, origin = resolved.table, resolved.origin
    elif origin is None and isinstance(source, (str, Path)) and Path(source).is_file():
        origin = file_origin(Path(source))
    loaded = load_table(source, role="baseline")
    if loaded.unconvertible:
        column, problem = next(iter(sorted(loaded.unconvertible.items())))
        raise ColumnError(column, f"{problem}; a baseline column needs one type of value")
    table = loaded.table
    if table.num_rows == 0 or table.num_columns == 0:
        raise InputError(
            f"the baseline of {model!r} version {version!r} from {loaded.source} is empty: "
            "register the training data (at least one row and one column)"
        )
    table = table.combine_chunks().replace_schema_metadata(None)
    store.save_baseline(model, version, table)
    info = BaselineInfo(
        model=model,
        version=version,
        rows=table.num_rows,
        columns=tuple(table.column_names),
        digest=table_digest(table),
        registered_at=now or utc_now(),
    )
    # Fitted once here and stored: no process re-fits it, no page re-reads the raw baseline.
    from keeneye.baseline.fitted import fit_and_save

    fit_and_save(store, model, version, table, info.digest)
    origin = origin or Origin(kind="table", uri=loaded.source)
    store.record_data_source(
        DataSource(
            model=model,
            version=version,
            kind=origin.kind,
            uri=origin.uri,
            recorded_at=info.registered_at,
            rows=info.rows,
            columns=info.columns,
            digest=info.digest,
            file_hash=origin.file_hash,
            revision=origin.revision,
            commit=origin.commit,
            feature_service=origin.feature_service,
            features=origin.features,
            start=origin.start,
            end=origin.end,
        )
    )
    store.save_results(
        [
            StoredResult(
                model=model,
                version=version,
                kind=BASELINE_KIND,
                window_start=_EPOCH,
                window_end=_EPOCH,
                computed_at=info.registered_at,
                payload=info.to_dict(),
            )
        ]
    )
    return info


def baseline_info(store: EventStore, model: str, version: str) -> dict[str, Any] | None:
    """The registration record of a baseline (``None`` when it was not registered here)."""
    found = store.load_results(model, kind=BASELINE_KIND, version=version)
    return dict(found[-1].payload) if found else None


def table_digest(table: pa.Table) -> str:
    """A content digest of a table (its Arrow IPC stream), to tell baselines apart."""
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue()).hexdigest()[:16]


def read_upload(body: bytes, content_type: str | None) -> pa.Table:
    """Read an uploaded baseline: Parquet, Arrow IPC (file or stream) or JSON records
    (``[{"age": 31, ...}, ...]`` or ``{"records": [...]}``), told apart by content type or,
    when that is generic, by the bytes themselves."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if not body:
        raise DataSourceError("the uploaded baseline is empty: send Parquet, Arrow IPC or JSON")
    if kind in ("application/json", "text/json") or body.lstrip()[:1] in (b"[", b"{"):
        return _json_records(body)
    if body[:4] == b"PAR1" or kind in ("application/vnd.apache.parquet", "application/x-parquet"):
        import pyarrow.parquet as pq

        try:
            return pq.read_table(io.BytesIO(body))
        except (pa.ArrowException, OSError) as exc:
            raise DataSourceError(f"the uploaded baseline is not valid Parquet: {exc}") from exc
    try:
        if body[:6] == b"ARROW1":
            return pa.ipc.open_file(io.BytesIO(body)).read_all()
        return pa.ipc.open_stream(io.BytesIO(body)).read_all()
    except (pa.ArrowException, OSError) as exc:
        raise DataSourceError(
            f"cannot read the uploaded baseline ({kind or 'no content type'}): send Parquet "
            "(application/vnd.apache.parquet), Arrow IPC (application/vnd.apache.arrow.stream) "
            f"or JSON records (application/json); {exc}"
        ) from exc


def _json_records(body: bytes) -> pa.Table:
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataSourceError(f"the uploaded baseline is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise DataSourceError(
            "the uploaded baseline nests JSON too deeply; send a flat list of records"
        ) from exc
    if isinstance(data, dict) and "records" in data:
        data = data["records"]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise DataSourceError(
            "a JSON baseline must be a list of records (objects), e.g. "
            '[{"age": 31, "plan": "pro"}], or {"records": [...]}'
        )
    try:
        return pa.Table.from_pylist(data)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DataSourceError(f"the uploaded JSON records do not form a table: {exc}") from exc
