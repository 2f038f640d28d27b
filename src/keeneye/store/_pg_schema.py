"""The PostgreSQL store's schema as numbered migrations (applied once each, in order).

Layout: one ``events`` table for every model, keyed by ``(model, event_id)`` so an event id is
stored once whichever collector receives it. Feature values live in three typed arrays per row
(``nums float8[]``, ``strs text[]``, ``bools boolean[]``); ``features.slot`` says which element
holds a feature. A new feature is a catalog row and a longer array, never DDL, and a window read
selects ``nums[3]`` directly as a typed column (no JSON to parse; see ``docs/store.md`` for the
measurements behind the choice). Text that is ordered on is ``COLLATE "C"``: byte order, the
same order as DuckDB's, whatever locale the cluster was created with.
"""

from __future__ import annotations

_T = 'text COLLATE "C"'

#: Migration number → statements. Never edit a released migration: append a new one.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        f"""CREATE TABLE models (model {_T} PRIMARY KEY, created_at timestamptz NOT NULL)""",
        f"""CREATE TABLE features (
            model {_T} NOT NULL, feature {_T} NOT NULL, kind text NOT NULL, slot integer,
            created_at timestamptz NOT NULL, streak_type text, streak integer NOT NULL DEFAULT 0,
            reported_type text, PRIMARY KEY (model, feature))""",
        f"""CREATE TABLE version_features (
            model {_T} NOT NULL, version {_T} NOT NULL, feature {_T} NOT NULL,
            PRIMARY KEY (model, version, feature))""",
        f"""CREATE TABLE events (
            model {_T} NOT NULL, event_id {_T} NOT NULL, version {_T} NOT NULL,
            ts timestamptz NOT NULL, received_at timestamptz NOT NULL,
            prediction_num float8, prediction_str text, prediction_bool boolean,
            probabilities text, latency_seconds float8,
            nums float8[], strs text[], bools boolean[],
            PRIMARY KEY (model, event_id))""",
        """CREATE INDEX events_model_ts ON events (model, ts)""",
        f"""CREATE TABLE invalid_values (
            model {_T} NOT NULL, event_id {_T} NOT NULL, feature {_T} NOT NULL, raw text,
            reason {_T} NOT NULL, ts timestamptz, version {_T})""",
        """CREATE INDEX invalid_values_model_ts ON invalid_values (model, ts)""",
        """CREATE INDEX invalid_values_model_event ON invalid_values (model, event_id)""",
        f"""CREATE TABLE schema_changes (
            model {_T} NOT NULL, feature {_T} NOT NULL, old_type text NOT NULL,
            new_type text NOT NULL, changed_at timestamptz NOT NULL)""",
        f"""CREATE TABLE labels (
            model {_T} NOT NULL, event_id {_T} NOT NULL,
            label_num float8, label_str text, label_bool boolean, label_raw text,
            label_ts timestamptz NOT NULL, received_at timestamptz NOT NULL,
            revisions integer NOT NULL DEFAULT 0, PRIMARY KEY (model, event_id))""",
        f"""CREATE TABLE versions (
            model {_T} NOT NULL, version {_T} NOT NULL, registered_at timestamptz NOT NULL,
            model_uri text, mlflow_run_id text, training_data text, git_sha text, tags text,
            PRIMARY KEY (model, version))""",
        f"""CREATE TABLE live_history (
            seq bigserial PRIMARY KEY, model {_T} NOT NULL, version {_T} NOT NULL,
            live_since timestamptz NOT NULL, previous_version {_T})""",
        f"""CREATE TABLE baselines (
            model {_T} NOT NULL, version {_T} NOT NULL, data bytea NOT NULL,
            columns text[] NOT NULL, rows bigint NOT NULL, saved_at timestamptz NOT NULL,
            PRIMARY KEY (model, version))""",
        f"""CREATE TABLE fitted_references (
            model {_T} NOT NULL, version {_T} NOT NULL, data bytea NOT NULL,
            saved_at timestamptz NOT NULL, PRIMARY KEY (model, version))""",
        f"""CREATE TABLE results (
            model {_T} NOT NULL, version {_T} NOT NULL, kind {_T} NOT NULL,
            window_start timestamptz NOT NULL, window_end timestamptz NOT NULL,
            computed_at timestamptz NOT NULL, payload text NOT NULL,
            PRIMARY KEY (model, kind, version, window_start, window_end))""",
        f"""CREATE TABLE alerts (
            seq bigserial PRIMARY KEY, model {_T}, alert_at timestamptz, payload text NOT NULL)""",
        """CREATE INDEX alerts_at ON alerts (alert_at DESC NULLS LAST, seq DESC)""",
        f"""CREATE TABLE leases (
            key {_T} PRIMARY KEY, owner text NOT NULL, expires_at timestamptz NOT NULL)""",
        f"""CREATE TABLE services (
            owner {_T} PRIMARY KEY, service {_T} NOT NULL, started_at timestamptz NOT NULL,
            beat_at timestamptz NOT NULL, info text NOT NULL)""",
    ),
}

# Window markers and baseline records in tables of their own (``records.RESULT_TABLES``).
MIGRATIONS[2] = tuple(
    statement
    for kind, table in (("drift_window", "window_markers"), ("baseline", "baseline_records"))
    for statement in (
        f"CREATE TABLE {table} (LIKE results INCLUDING ALL)",
        f"INSERT INTO {table} SELECT * FROM results WHERE kind = '{kind}'",
        f"DELETE FROM results WHERE kind = '{kind}'",
    )
)

# Where each registered baseline came from (file, DVC revision, Feast service): lineage.
MIGRATIONS[3] = (
    f"""CREATE TABLE data_sources (
        seq bigserial PRIMARY KEY, model {_T} NOT NULL, version {_T} NOT NULL,
        recorded_at timestamptz NOT NULL, payload text NOT NULL)""",
    """CREATE INDEX data_sources_version ON data_sources (model, version, seq)""",
)

#: The newest migration: what a store opened by this code has.
SCHEMA_VERSION = max(MIGRATIONS)

#: Advisory-lock key held while migrating, so processes starting together migrate once.
MIGRATION_LOCK = 0x6B65656E  # "keen"

#: Column of the prediction / label per stored type, and element type of each feature array.
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
ARRAY_COLUMNS: dict[str, str] = {"numeric": "nums", "categorical": "strs", "boolean": "bools"}
