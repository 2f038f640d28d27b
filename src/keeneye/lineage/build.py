"""Assemble a version's :class:`~keeneye.lineage.model.Lineage` from the store (versions, live
history, data sources, baseline, fitted reference, alert history) and MLflow (the run)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from keeneye.baseline.fitted import stored_reference
from keeneye.baseline.register import baseline_info
from keeneye.errors import InputError, KeeneyeError, NotFoundError
from keeneye.lineage.model import AlertRaised, BaselineSummary, Lineage, LivePeriod
from keeneye.store.base import EventStore
from keeneye.store.records import VersionChange

if TYPE_CHECKING:
    from keeneye.integrations.mlflow import RunDetails

log = logging.getLogger("keeneye.lineage")

#: How many alert records are read to find those of one version.
ALERT_LOOK_BACK = 5000

RunLookup = Callable[[str], "RunDetails"]


def mlflow_run(run_id: str) -> RunDetails:
    """The run from the tracking server that ``MLFLOW_TRACKING_URI`` names (never MLflow's
    default, a local file store that a page view would create in the working directory)."""
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        raise InputError(
            "MLFLOW_TRACKING_URI is not set for this keeneye server: set it to the tracking "
            "server's URL to show the run's parameters, metrics and git commit"
        )
    from keeneye.integrations.mlflow import run_details

    return run_details(run_id)


def build_lineage(
    store: EventStore,
    model: str,
    version: str,
    *,
    run_lookup: RunLookup | None = mlflow_run,
) -> Lineage:
    """The lineage of ``model`` version ``version``; raises
    :class:`~keeneye.errors.NotFoundError` for an unknown model or version. ``run_lookup``
    fetches the MLflow run (``None``: the run is not looked up)."""
    store.model_summary(model)  # NotFoundError for an unknown model
    found = next((v for v in store.versions(model) if v.version == version), None)
    if found is None:
        raise NotFoundError(f"model {model!r} has no version {version!r} in this store")
    run, problem = None, None
    if found.mlflow_run_id and run_lookup is not None:
        try:
            run = run_lookup(found.mlflow_run_id)
        except (KeeneyeError, OSError) as exc:
            problem = f"MLflow run {found.mlflow_run_id}: {exc}"
        except Exception as exc:  # MLflow's own errors (connection, REST): show, not fail
            problem = f"MLflow run {found.mlflow_run_id}: {type(exc).__name__}: {exc}"
            log.warning("lineage of %s v%s: %s", model, version, problem)
    sources = tuple(store.data_sources(model, version))
    baseline = _baseline(store, model, version)
    current = None
    if baseline is not None:
        current = next((s for s in reversed(sources) if s.digest == baseline.digest), None)
    live = live_periods(store.version_history(model), version)
    return Lineage(
        model=model,
        version=version,
        registered_at=found.registered_at,
        model_uri=found.model_uri,
        mlflow_run_id=found.mlflow_run_id,
        training_data=found.training_data,
        git_sha=found.git_sha,
        tags=dict(found.tags),
        mlflow_run=run,
        mlflow_problem=problem,
        data_sources=sources,
        current_source=current,
        baseline=baseline,
        live=live,
        alerts=alerts_while_live(store.list_alerts(model, limit=ALERT_LOOK_BACK), version, live),
    )


def _baseline(store: EventStore, model: str, version: str) -> BaselineSummary | None:
    info = baseline_info(store, model, version)
    reference = stored_reference(store, model, version)
    if info is None:
        table = store.load_baseline(model, version)
        if table is None:
            return None
        info = {"rows": table.num_rows, "columns": table.column_names}
    registered = info.get("registered_at")
    return BaselineSummary(
        rows=int(info["rows"]),
        columns=tuple(str(c) for c in info["columns"]),
        digest=None if info.get("digest") is None else str(info["digest"]),
        registered_at=None if registered is None else datetime.fromisoformat(str(registered)),
        reference_kinds={}
        if reference is None
        else {n: (None if k is None else k.value) for n, k in reference.kinds.items()},
        reference_rows=None if reference is None else reference.rows,
    )


def live_periods(history: Sequence[VersionChange], version: str) -> tuple[LivePeriod, ...]:
    """The stretches of the live-version history during which ``version`` was live.

    >>> from datetime import UTC
    >>> t = [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3)]
    >>> h = [VersionChange("m", "1", t[0], None), VersionChange("m", "2", t[1], "1"),
    ...      VersionChange("m", "1", t[2], "2")]
    >>> [(p.since.day, p.until and p.until.day, p.replaced_by) for p in live_periods(h, "1")]
    [(1, 2, '2'), (3, None, None)]
    """
    periods = []
    for index, change in enumerate(history):
        if change.version != version:
            continue
        after = history[index + 1] if index + 1 < len(history) else None
        periods.append(
            LivePeriod(
                since=change.live_since,
                until=None if after is None else after.live_since,
                previous_version=change.previous_version,
                replaced_by=None if after is None else after.version,
            )
        )
    return tuple(periods)


def alerts_while_live(
    records: Sequence[Mapping[str, Any]], version: str, live: Sequence[LivePeriod]
) -> tuple[AlertRaised, ...]:
    """Alerts that fired for the version itself, and model-level ones (version ``*``) for
    windows starting while it was live; another version's alerts are that version's. One per
    condition and window, oldest first."""

    def during(at: datetime) -> bool:
        return any(p.since <= at and (p.until is None or at < p.until) for p in live)

    found: dict[tuple[str, str], AlertRaised] = {}
    for r in records:
        if r.get("status") != "firing" or r.get("window_start") is None or r.get("at") is None:
            continue
        start = datetime.fromisoformat(str(r["window_start"]))
        own = str(r.get("version")) == version
        if not own and (r.get("version") not in (None, "", "*") or not during(start)):
            continue
        alert = AlertRaised(
            at=datetime.fromisoformat(str(r["at"])),
            version=str(r.get("version")),
            rule=str(r.get("rule")),
            subject=str(r.get("subject", "")),
            severity=str(r.get("severity", "")),
            summary=str(r.get("summary", "")),
            window_start=start,
            window_end=datetime.fromisoformat(str(r.get("window_end", r["window_start"]))),
        )
        found.setdefault((str(r.get("key")), str(r["window_start"])), alert)
    return tuple(sorted(found.values(), key=lambda a: (a.window_start, a.rule, a.subject)))
