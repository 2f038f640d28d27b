"""Baselines from a Feast feature store:
``feast://REPO_PATH?feature_service=NAME&start=ISO&end=ISO``.

Everything goes through Feast's own API: ``FeatureStore(repo_path=…)``, the feature service
from the registry, the entity keys and event timestamps of its feature views' batch sources
within ``[start, end)`` (read by the repository's offline store), then
``get_historical_features(entity_df, features=service)`` — the point-in-time correct feature
values a model trained on that range saw. The baseline is the service's feature columns; the
service, its features and the range are recorded in the version's lineage.

Needs ``pip install 'keeneye[feast]'``.

>>> ref = parse_feast_uri("feast:///srv/repo?feature_service=churn&start=2026-01-01&end=2026-02-01")
>>> (ref.repo, ref.feature_service, ref.start.isoformat(), ref.end.isoformat())
('/srv/repo', 'churn', '2026-01-01T00:00:00+00:00', '2026-02-01T00:00:00+00:00')
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyarrow as pa

from keeneye.baseline.sources import Origin, Resolved
from keeneye.errors import DataSourceError, InputError, require

SCHEME = "feast://"
_USAGE = (
    "use feast://REPO_PATH?feature_service=NAME&start=ISO-TIME&end=ISO-TIME "
    "(REPO_PATH the folder of feature_store.yaml; times as 2026-01-31 or 2026-01-31T12:00Z)"
)
#: The column of event times in the entity dataframe handed to Feast.
EVENT_TIMESTAMP = "event_timestamp"


@dataclass(frozen=True)
class FeastRef:
    """A ``feast://`` URI taken apart."""

    repo: str
    feature_service: str
    start: datetime
    end: datetime


def _when(uri: str, name: str, value: str | None) -> datetime:
    if not value:
        raise InputError(f"Feast source {uri!r} has no {name}=: {_USAGE}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InputError(
            f"Feast source {uri!r}: {name}={value!r} is not an ISO-8601 time "
            "(e.g. 2026-01-31 or 2026-01-31T12:00:00Z)"
        ) from exc
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when


def parse_feast_uri(uri: str) -> FeastRef:
    """Split a ``feast://`` URI; times without a zone are UTC, ``+`` in an offset is kept.

    >>> parse_feast_uri("feast:///r?feature_service=s&start=2026-02-01&end=2026-01-01")
    Traceback (most recent call last):
    ...
    keeneye.errors.InputError: Feast source ...: start ... is not before end ...
    """
    if not uri.startswith(SCHEME):
        raise InputError(f"Feast source {uri!r} does not start with {SCHEME}")
    path, _, query = uri[len(SCHEME) :].partition("?")
    params: dict[str, str] = {}
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        if key not in ("feature_service", "start", "end"):
            raise InputError(f"Feast source {uri!r}: unknown parameter {key!r}; {_USAGE}")
        params[key] = unquote(value)
    if not path:
        raise InputError(f"Feast source {uri!r} names no repository: {_USAGE}")
    service = params.get("feature_service")
    if not service:
        raise InputError(f"Feast source {uri!r} has no feature_service=: {_USAGE}")
    start = _when(uri, "start", params.get("start"))
    end = _when(uri, "end", params.get("end"))
    if start >= end:
        raise InputError(
            f"Feast source {uri!r}: start {start.isoformat()} is not before end {end.isoformat()}"
        )
    return FeastRef(unquote(path), service, start, end)


def feast_errors() -> tuple[type[BaseException], ...]:
    """What Feast raises for a repository, registry or store it cannot use."""
    from feast.errors import FeastError

    return (FeastError, OSError, ValueError, KeyError)


def open_store(repo: str) -> Any:
    """Feast's ``FeatureStore`` for the repository folder ``repo``."""
    folder = Path(repo)
    if not (folder / "feature_store.yaml").is_file():
        raise InputError(
            f"{repo!r} is not a Feast repository: it has no feature_store.yaml "
            "(give the folder `feast apply` was run in)"
        )
    feast: Any = require("feast", "feast")
    try:
        return feast.FeatureStore(repo_path=str(folder))
    except feast_errors() as exc:
        raise DataSourceError(f"Feast cannot open the repository {repo!r}: {exc}") from exc


@dataclass(frozen=True)
class Service:
    """A feature service as keeneye uses it: its features (output column names) and the join
    keys its feature views share."""

    service: Any
    features: tuple[str, ...]
    join_keys: tuple[str, ...]
    views: tuple[Any, ...]


def feature_service(store: Any, repo: str, name: str) -> Service:
    """The service ``name`` from the repository's registry, with its features and join keys."""
    try:
        service = store.get_feature_service(name)
    except feast_errors() as exc:
        known = sorted(s.name for s in store.list_feature_services())
        raise DataSourceError(
            f"Feast repository {repo!r} has no feature service {name!r} "
            f"(it has: {', '.join(known) or 'none'}; run `feast apply` after defining it)"
        ) from exc
    features: list[str] = []
    views: list[Any] = []
    keys: set[tuple[str, ...]] = set()
    for projection in service.feature_view_projections:
        try:
            view = store.get_feature_view(projection.name)
        except feast_errors() as exc:
            raise InputError(
                f"feature service {name!r} includes {projection.name!r}, which is not a batch "
                "feature view (on-demand and stream feature views are not read by keeneye): "
                "give a service of batch feature views"
            ) from exc
        views.append(view)
        features.extend(field.name for field in projection.features)
        names = [e for e in view.entities if e != "__dummy"]
        keys.add(tuple(sorted(store.get_entity(e).join_key for e in names)))
    if len(keys) != 1:
        raise InputError(
            f"feature service {name!r}: its feature views are keyed by different entities "
            f"({' / '.join(', '.join(k) for k in sorted(keys))}); keeneye builds one entity "
            "dataframe, so give a service whose views share their entities"
        )
    if len(set(features)) != len(features):
        raise InputError(
            f"feature service {name!r} has two features of the same name: "
            "give the feature views' features distinct names"
        )
    return Service(service, tuple(features), next(iter(keys)), tuple(views))


def entity_rows(store: Any, service: Service, start: datetime, end: datetime) -> pa.Table:
    """Distinct join keys and event timestamps of the service's batch sources in
    ``[start, end)``, read by the repository's offline store."""
    provider = store._get_provider()
    parts: list[pa.Table] = []
    for view in service.views:
        source = view.batch_source
        job = provider.offline_store.pull_all_from_table_or_query(
            config=store.config,
            data_source=source,
            join_key_columns=list(service.join_keys),
            feature_name_columns=[],
            timestamp_field=source.timestamp_field,
            start_date=start,
            end_date=end,
        )
        table = job.to_arrow()
        table = table.select([*service.join_keys, source.timestamp_field])
        parts.append(table.rename_columns([*service.join_keys, EVENT_TIMESTAMP]))
    rows = pa.concat_tables(parts, promote_options="permissive")
    ts = rows.column(EVENT_TIMESTAMP)
    import pyarrow.compute as pc

    # end is exclusive; the offline store reads [start, end]
    end_scalar = pa.scalar(end, type=ts.type) if pa.types.is_timestamp(ts.type) else None
    if end_scalar is not None:
        rows = rows.filter(pc.less(ts, end_scalar))
    return rows.group_by(list(rows.column_names)).aggregate([])


def historical(store: Any, service: Service, entities: pa.Table) -> pa.Table:
    """``get_historical_features`` of the service for ``entities``: its feature columns."""
    frame = entities.to_pandas()
    job = store.get_historical_features(entity_df=frame, features=service.service)
    values = job.to_arrow()
    return values


def read_feast(uri: str) -> Resolved:
    """The baseline a ``feast://`` URI names: the service's features over ``[start, end)``."""
    ref = parse_feast_uri(uri)
    store = open_store(ref.repo)
    service = feature_service(store, ref.repo, ref.feature_service)
    try:
        entities = entity_rows(store, service, ref.start, ref.end)
        if entities.num_rows == 0:
            raise DataSourceError(
                f"feature service {ref.feature_service!r} of {ref.repo!r} has no rows between "
                f"{ref.start.isoformat()} and {ref.end.isoformat()}: widen start/end"
            )
        values = historical(store, service, entities)
    except feast_errors() as exc:
        if isinstance(exc, DataSourceError):
            raise
        raise DataSourceError(
            f"Feast cannot read feature service {ref.feature_service!r} of {ref.repo!r}: {exc}"
        ) from exc
    table = values.select(list(service.features))
    origin = Origin(
        kind="feast",
        uri=uri,
        feature_service=ref.feature_service,
        features=service.features,
        start=ref.start,
        end=ref.end,
    )
    return Resolved(table, origin)
