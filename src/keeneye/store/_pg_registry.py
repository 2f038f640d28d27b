"""The PostgreSQL store's registry: versions, live-version history, model summaries, baselines
(Arrow IPC bytes), fitted references (opaque bytes) and the data sources of baselines
(lineage)."""

from __future__ import annotations

import json
from datetime import datetime

import pyarrow as pa

from keeneye.errors import InputError, NotFoundError
from keeneye.store._batch import utc
from keeneye.store._pg_base import Connection, _check_model, _PostgresBase
from keeneye.store._values import dumps
from keeneye.store.records import DataSource, ModelSummary, ModelVersion, VersionChange


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


class _RegistryMixin(_PostgresBase):
    """Registry (see :class:`~keeneye.store.postgres.PostgresStore`)."""

    def register_version(self, version: ModelVersion, *, live: bool = False) -> None:
        """Add or update a version's metadata; ``live=True`` also makes it the live version."""
        _check_model(version.model)
        if not version.version:
            raise InputError("version must be a non-empty string")
        registered = utc(version.registered_at, "registered_at")
        with self._transaction() as con:
            self._lock_model(con, version.model)
            self._ensure_model(con, version.model)
            con.execute(
                "INSERT INTO versions VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (model, version) DO UPDATE SET registered_at = "
                "excluded.registered_at, model_uri = excluded.model_uri, mlflow_run_id = "
                "excluded.mlflow_run_id, training_data = excluded.training_data, git_sha = "
                "excluded.git_sha, tags = excluded.tags",
                [
                    version.model,
                    version.version,
                    registered,
                    version.model_uri,
                    version.mlflow_run_id,
                    version.training_data,
                    version.git_sha,
                    dumps(dict(version.tags)),
                ],
            )
            if live:
                self._set_live(con, version.model, version.version, registered)

    def set_live_version(self, model: str, version: str, at: datetime) -> None:
        """Record that ``version`` is live from ``at`` on (promotion or rollback)."""
        _check_model(model)
        at = utc(at, "at")
        with self._transaction() as con:
            self._lock_model(con, model)
            self._ensure_model(con, model)
            con.execute(
                "INSERT INTO versions (model, version, registered_at) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                [model, version, at],
            )
            self._set_live(con, model, version, at)

    @staticmethod
    def _set_live(con: Connection, model: str, version: str, at: datetime) -> None:
        row = con.execute(
            "SELECT version FROM live_history WHERE model = %s ORDER BY live_since DESC, "
            "seq DESC LIMIT 1",
            [model],
        ).fetchone()
        previous = row[0] if row else None
        if previous == version:
            return
        con.execute(
            "INSERT INTO live_history (model, version, live_since, previous_version) "
            "VALUES (%s, %s, %s, %s)",
            [model, version, at, previous],
        )

    def list_models(self) -> list[ModelSummary]:
        """Every model in the store, by name."""
        return [self.model_summary(str(m)) for (m,) in self._read("SELECT model FROM models")]

    def model_summary(self, model: str) -> ModelSummary:
        """A model at a glance (as :meth:`DuckDBStore.model_summary`); raises
        :class:`~keeneye.errors.NotFoundError` when unknown."""
        rows = self._read(
            """WITH ev AS (SELECT count(*) AS n, min(ts) AS first, max(ts) AS last
                           FROM events WHERE model = %(m)s),
            lab AS (SELECT count(*) AS n, percentile_cont(0.5) WITHIN GROUP (
                        ORDER BY extract(epoch FROM l.label_ts) - extract(epoch FROM e.ts))
                        AS delay
                    FROM events e JOIN labels l ON l.model = e.model AND l.event_id = e.event_id
                    WHERE e.model = %(m)s)
            SELECT ev.n, ev.first, ev.last, lab.n, lab.delay,
                (SELECT array_agg(version ORDER BY registered_at, version) FROM versions
                 WHERE model = %(m)s),
                coalesce(
                    (SELECT version FROM live_history WHERE model = %(m)s
                     ORDER BY live_since DESC, seq DESC LIMIT 1),
                    (SELECT version FROM events WHERE model = %(m)s ORDER BY ts DESC LIMIT 1))
            FROM ev, lab, models WHERE models.model = %(m)s""",
            {"m": model},
        )
        if not rows:
            raise NotFoundError(f"model {model!r} has no events or versions in this store")
        events, first, last, labels, delay, versions, live = rows[0]
        return ModelSummary(
            model=model,
            versions=tuple(str(v) for v in versions or ()),
            live_version=None if live is None else str(live),
            events=int(events),
            labels=int(labels),
            first_event=first,
            last_event=last,
            label_coverage=(int(labels) / int(events)) if events else None,
            median_label_delay_seconds=None if delay is None else float(delay),
        )

    def versions(self, model: str) -> list[ModelVersion]:
        """Registered versions (and versions first seen in events), oldest first."""
        return [
            ModelVersion(
                model=model,
                version=str(v),
                registered_at=at,
                model_uri=uri,
                mlflow_run_id=run,
                training_data=data,
                git_sha=sha,
                tags=json.loads(tags) if tags else {},
            )
            for v, at, uri, run, data, sha, tags in self._read(
                "SELECT version, registered_at, model_uri, mlflow_run_id, training_data, "
                "git_sha, tags FROM versions WHERE model = %s ORDER BY registered_at, version",
                [model],
            )
        ]

    def version_history(self, model: str) -> list[VersionChange]:
        """Changes of the live version, oldest first."""
        return [
            VersionChange(model=model, version=str(v), live_since=at, previous_version=prev)
            for v, at, prev in self._read(
                "SELECT version, live_since, previous_version FROM live_history "
                "WHERE model = %s ORDER BY live_since, seq",
                [model],
            )
        ]

    # -- baselines and references -------------------------------------------------------------
    def save_baseline(self, model: str, version: str, table: pa.Table) -> None:
        """Keep the training data of a version (as Arrow IPC); replaces an earlier one. Its
        column names become the version's registered schema."""
        _check_model(model)
        if not isinstance(table, pa.Table):
            raise InputError(f"a baseline must be a pyarrow.Table, got {type(table).__name__}")
        data = _ipc(table)
        with self._transaction() as con:
            self._lock_model(con, model)
            self._ensure_model(con, model)
            now = self._now()
            con.execute(
                "INSERT INTO baselines VALUES (%s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (model, version) DO UPDATE SET data = excluded.data, "
                "columns = excluded.columns, rows = excluded.rows, saved_at = excluded.saved_at",
                [model, version, data, table.column_names, table.num_rows, now],
            )
            con.execute(
                "INSERT INTO versions (model, version, registered_at) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                [model, version, now],
            )

    def load_baseline(self, model: str, version: str) -> pa.Table | None:
        """The stored training data, or ``None`` when the version has none."""
        rows = self._read(
            "SELECT data FROM baselines WHERE model = %s AND version = %s", [model, version]
        )
        if not rows:
            return None
        return pa.ipc.open_stream(pa.py_buffer(rows[0][0])).read_all()

    def save_reference(self, model: str, version: str, data: bytes) -> None:
        """Keep the fitted (serialised) reference of a version; replaces an earlier one."""
        _check_model(model)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InputError(f"a fitted reference must be bytes, got {type(data).__name__}")
        with self._transaction() as con:
            self._ensure_model(con, model)
            con.execute(
                "INSERT INTO fitted_references VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (model, version) DO UPDATE SET data = excluded.data, "
                "saved_at = excluded.saved_at",
                [model, version, bytes(data), self._now()],
            )

    def load_reference(self, model: str, version: str) -> bytes | None:
        """The stored fitted reference of a version, or ``None``."""
        rows = self._read(
            "SELECT data FROM fitted_references WHERE model = %s AND version = %s",
            [model, version],
        )
        return bytes(rows[0][0]) if rows else None

    # -- lineage ------------------------------------------------------------------------------
    def record_data_source(self, source: DataSource) -> None:
        """Append where a registered baseline came from."""
        _check_model(source.model)
        recorded = utc(source.recorded_at, "recorded_at")
        with self._transaction() as con:
            con.execute(
                "INSERT INTO data_sources (model, version, recorded_at, payload) "
                "VALUES (%s, %s, %s, %s)",
                [source.model, source.version, recorded, dumps(source.to_payload())],
            )

    def data_sources(self, model: str, version: str) -> list[DataSource]:
        """The data sources recorded for a version, oldest first."""
        return [
            DataSource.from_payload(model, version, json.loads(payload))
            for (payload,) in self._read(
                "SELECT payload FROM data_sources WHERE model = %s AND version = %s ORDER BY seq",
                [model, version],
            )
        ]
