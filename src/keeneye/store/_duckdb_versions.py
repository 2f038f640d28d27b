"""The DuckDB store's model versions, live-version history, model summaries and the data
sources (lineage) of registered baselines."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb

from keeneye.errors import InputError
from keeneye.store._batch import utc
from keeneye.store._duckdb_base import _check_model, _DuckDBBase
from keeneye.store._values import dumps
from keeneye.store.records import DataSource, ModelSummary, ModelVersion, VersionChange


class _VersionsMixin(_DuckDBBase):
    """Versions, live history and summaries (see :class:`~keeneye.store.duckdb.DuckDBStore`)."""

    # -- models and versions ------------------------------------------------------------------
    def register_version(self, version: ModelVersion, *, live: bool = False) -> None:
        """Add or update a version's metadata; ``live=True`` also makes it the live version."""
        _check_model(version.model)
        if not version.version:
            raise InputError("version must be a non-empty string")
        registered = utc(version.registered_at, "registered_at")
        with self._transaction() as con:
            info = self._writer_model(con, version.model)
            con.execute(
                "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
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
        info.versions.add(version.version)

    def set_live_version(self, model: str, version: str, at: datetime) -> None:
        """Record that ``version`` is live from ``at`` on (promotion or rollback)."""
        _check_model(model)
        at = utc(at, "at")
        with self._transaction() as con:
            info = self._writer_model(con, model)
            con.execute(
                "INSERT OR IGNORE INTO versions (model, version, registered_at) VALUES (?, ?, ?)",
                [model, version, at],
            )
            self._set_live(con, model, version, at)
        info.versions.add(version)

    @staticmethod
    def _set_live(con: duckdb.DuckDBPyConnection, model: str, version: str, at: datetime) -> None:
        rows = con.execute(
            "SELECT version FROM live_history WHERE model = ? ORDER BY live_since DESC, seq DESC "
            "LIMIT 1",
            [model],
        ).fetchall()
        previous = rows[0][0] if rows else None
        if previous == version:
            return
        con.execute(
            "INSERT INTO live_history (model, version, live_since, previous_version) "
            "VALUES (?, ?, ?, ?)",
            [model, version, at, previous],
        )

    def list_models(self) -> list[ModelSummary]:
        """Every model in the store, by name."""
        return [self.model_summary(str(m)) for (m,) in self._read("SELECT model FROM models")]

    def model_summary(self, model: str) -> ModelSummary:
        """A model at a glance; raises :class:`~keeneye.errors.NotFoundError` when unknown.

        ``labels`` counts labels joined to a stored prediction (pending ones are not counted);
        ``label_coverage`` is ``labels / events``. The live version is the latest one set with
        :meth:`set_live_version` (or ``register_version(live=True)``); when none was ever set,
        the version of the most recent event counts as live.
        """
        table = self._require_table(model)
        # One statement (each query costs a round trip of milliseconds): the live version is
        # the latest one set, else the version of the most recent event.
        events, first, last, labels, delay, versions, live = self._read(
            f"""WITH ev AS (SELECT count(*) AS n, min(ts) AS first, max(ts) AS last FROM {table}),
            lab AS (
                SELECT count(*) AS n, median(epoch(l.label_ts) - epoch(e.ts)) AS delay
                FROM {table} e JOIN labels l ON l.model = ? AND l.event_id = e.event_id)
            SELECT ev.n, ev.first, ev.last, lab.n, lab.delay,
                (SELECT list(version ORDER BY registered_at, version) FROM versions
                 WHERE model = ?),
                coalesce(
                    (SELECT version FROM live_history WHERE model = ?
                     ORDER BY live_since DESC, seq DESC LIMIT 1),
                    (SELECT version FROM {table} ORDER BY ts DESC LIMIT 1))
            FROM ev, lab""",
            [model, model, model],
        )[0]
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
                "SELECT version, registered_at, model_uri, mlflow_run_id, training_data, git_sha, "
                "tags FROM versions WHERE model = ? ORDER BY registered_at, version",
                [model],
            )
        ]

    def version_history(self, model: str) -> list[VersionChange]:
        """Changes of the live version, oldest first."""
        return [
            VersionChange(model=model, version=str(v), live_since=at, previous_version=prev)
            for v, at, prev in self._read(
                "SELECT version, live_since, previous_version FROM live_history WHERE model = ? "
                "ORDER BY live_since, seq",
                [model],
            )
        ]

    # -- lineage ------------------------------------------------------------------------------
    def record_data_source(self, source: DataSource) -> None:
        """Append where a registered baseline came from."""
        _check_model(source.model)
        recorded = utc(source.recorded_at, "recorded_at")
        with self._transaction() as con:
            con.execute(
                "INSERT INTO data_sources (model, version, recorded_at, payload) "
                "VALUES (?, ?, ?, ?)",
                [source.model, source.version, recorded, dumps(source.to_payload())],
            )

    def data_sources(self, model: str, version: str) -> list[DataSource]:
        """The data sources recorded for a version, oldest first."""
        return [
            DataSource.from_payload(model, version, json.loads(payload))
            for (payload,) in self._read(
                "SELECT payload FROM data_sources WHERE model = ? AND version = ? ORDER BY seq",
                [model, version],
            )
        ]
