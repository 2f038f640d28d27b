"""The DuckDB store's catalog tables and their numbered migrations.

One events table per model (``events_<n>``, named in ``models``) holds the system columns and one
typed column per feature (``f_<n>``, named in ``features``); everything else is shared.

``CATALOG`` is the first layout (schema version 1, what files written before migrations hold);
``MIGRATIONS`` take a file from version ``n - 1`` to ``n``. ``keeneye_meta.schema_version``
records where a file stands; opening a file applies the missing migrations in one transaction.
"""

from __future__ import annotations

CATALOG: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS keeneye_meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS models (
        model VARCHAR PRIMARY KEY, table_name VARCHAR NOT NULL, created_at TIMESTAMPTZ NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS features (
        model VARCHAR NOT NULL, feature VARCHAR NOT NULL, column_name VARCHAR,
        type VARCHAR NOT NULL, created_at TIMESTAMPTZ NOT NULL,
        streak_type VARCHAR, streak INTEGER NOT NULL DEFAULT 0, reported_type VARCHAR,
        PRIMARY KEY (model, feature))""",
    """CREATE TABLE IF NOT EXISTS version_features (
        model VARCHAR NOT NULL, version VARCHAR NOT NULL, feature VARCHAR NOT NULL,
        PRIMARY KEY (model, version, feature))""",
    """CREATE TABLE IF NOT EXISTS invalid_values (
        model VARCHAR NOT NULL, event_id VARCHAR NOT NULL, feature VARCHAR NOT NULL,
        raw VARCHAR, reason VARCHAR NOT NULL, ts TIMESTAMPTZ, version VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS schema_changes (
        model VARCHAR NOT NULL, feature VARCHAR NOT NULL, old_type VARCHAR NOT NULL,
        new_type VARCHAR NOT NULL, changed_at TIMESTAMPTZ NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS labels (
        model VARCHAR NOT NULL, event_id VARCHAR NOT NULL,
        label_num DOUBLE, label_str VARCHAR, label_bool BOOLEAN, label_raw VARCHAR,
        label_ts TIMESTAMPTZ NOT NULL, received_at TIMESTAMPTZ NOT NULL,
        revisions INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (model, event_id))""",
    """CREATE TABLE IF NOT EXISTS versions (
        model VARCHAR NOT NULL, version VARCHAR NOT NULL, registered_at TIMESTAMPTZ NOT NULL,
        model_uri VARCHAR, mlflow_run_id VARCHAR, training_data VARCHAR, git_sha VARCHAR,
        tags VARCHAR, PRIMARY KEY (model, version))""",
    """CREATE SEQUENCE IF NOT EXISTS live_seq""",
    """CREATE TABLE IF NOT EXISTS live_history (
        seq BIGINT PRIMARY KEY DEFAULT nextval('live_seq'), model VARCHAR NOT NULL,
        version VARCHAR NOT NULL, live_since TIMESTAMPTZ NOT NULL, previous_version VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS baselines (
        model VARCHAR NOT NULL, version VARCHAR NOT NULL, table_name VARCHAR NOT NULL,
        saved_at TIMESTAMPTZ NOT NULL, rows BIGINT NOT NULL, PRIMARY KEY (model, version))""",
    """CREATE SEQUENCE IF NOT EXISTS baseline_seq""",
    """CREATE TABLE IF NOT EXISTS results (
        model VARCHAR NOT NULL, version VARCHAR NOT NULL, kind VARCHAR NOT NULL,
        window_start TIMESTAMPTZ NOT NULL, window_end TIMESTAMPTZ NOT NULL,
        computed_at TIMESTAMPTZ NOT NULL, payload VARCHAR NOT NULL,
        PRIMARY KEY (model, version, kind, window_start, window_end))""",
    """CREATE SEQUENCE IF NOT EXISTS alert_seq""",
    """CREATE TABLE IF NOT EXISTS alerts (
        seq BIGINT PRIMARY KEY DEFAULT nextval('alert_seq'), model VARCHAR,
        alert_at TIMESTAMPTZ, payload VARCHAR NOT NULL)""",
)

#: SQL type of a feature column per stored type.
SQL_TYPES: dict[str, str] = {"numeric": "DOUBLE", "categorical": "VARCHAR", "boolean": "BOOLEAN"}

#: Column of the prediction and of the label per stored type.
PREDICTION_COLUMNS: dict[str, str] = {
    "numeric": "prediction_num",
    "categorical": "prediction_str",
    "boolean": "prediction_bool",
}
LABEL_COLUMNS: dict[str, str] = {
    "numeric": "label_num",
    "categorical": "label_str",
    "boolean": "label_bool",
}


def events_table_ddl(table: str) -> str:
    """The events table of one model, before any feature column is added."""
    return f"""CREATE TABLE IF NOT EXISTS {table} (
        event_id VARCHAR PRIMARY KEY, version VARCHAR NOT NULL, ts TIMESTAMPTZ NOT NULL,
        received_at TIMESTAMPTZ NOT NULL, prediction_num DOUBLE, prediction_str VARCHAR,
        prediction_bool BOOLEAN, probabilities VARCHAR, latency_seconds DOUBLE)"""


SYSTEM_COLUMNS: tuple[str, ...] = (
    "event_id",
    "version",
    "ts",
    "received_at",
    "prediction_num",
    "prediction_str",
    "prediction_bool",
    "probabilities",
    "latency_seconds",
)


#: Migration number → statements taking a file from the previous version to this one.
#: Never edit a released migration: append a new one.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (
        """CREATE TABLE IF NOT EXISTS fitted_references (
            model VARCHAR NOT NULL, version VARCHAR NOT NULL, data BLOB NOT NULL,
            saved_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (model, version))""",
        """CREATE TABLE IF NOT EXISTS leases (
            key VARCHAR PRIMARY KEY, owner VARCHAR NOT NULL, expires_at TIMESTAMPTZ NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS services (
            owner VARCHAR PRIMARY KEY, service VARCHAR NOT NULL, started_at TIMESTAMPTZ NOT NULL,
            beat_at TIMESTAMPTZ NOT NULL, info VARCHAR NOT NULL)""",
    ),
}


def _own_table(kind: str, table: str) -> tuple[str, ...]:
    """Statements moving the results of ``kind`` into a table of their own."""
    return (
        f"""CREATE TABLE IF NOT EXISTS {table} (
            model VARCHAR NOT NULL, version VARCHAR NOT NULL, kind VARCHAR NOT NULL,
            window_start TIMESTAMPTZ NOT NULL, window_end TIMESTAMPTZ NOT NULL,
            computed_at TIMESTAMPTZ NOT NULL, payload VARCHAR NOT NULL,
            PRIMARY KEY (model, version, kind, window_start, window_end))""",
        f"INSERT INTO {table} SELECT * FROM results WHERE kind = '{kind}'",
        f"DELETE FROM results WHERE kind = '{kind}'",
    )


# Window markers and baseline records leave the reports table (see ``records.RESULT_TABLES``).
MIGRATIONS[3] = _own_table("drift_window", "window_markers") + _own_table(
    "baseline", "baseline_records"
)

# Where each registered baseline came from (file, DVC revision, Feast service): lineage.
MIGRATIONS[4] = (
    """CREATE SEQUENCE IF NOT EXISTS data_source_seq""",
    """CREATE TABLE IF NOT EXISTS data_sources (
        seq BIGINT PRIMARY KEY DEFAULT nextval('data_source_seq'), model VARCHAR NOT NULL,
        version VARCHAR NOT NULL, recorded_at TIMESTAMPTZ NOT NULL, payload VARCHAR NOT NULL)""",
)

#: The schema version of a file this code creates or migrates.
SCHEMA_VERSION = max(MIGRATIONS)
