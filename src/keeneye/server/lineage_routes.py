"""Lineage API: register a baseline from a source URI (``dvc://…``, ``feast://…``), resolved
by this server, ``GET …/lineage``, everything known about where a version came from, and
``GET …/skew``, the training-serving skew of a Feast baseline (typed in OpenAPI)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from keeneye.baseline.register import BaselineInfo, register_baseline
from keeneye.baseline.skew import DEFAULT_SAMPLE, check_skew, feast_source, report_payload
from keeneye.baseline.sources import RESOLVERS, resolve_source, source_scheme
from keeneye.errors import InputError, MissingExtraError
from keeneye.lineage import Lineage, build_lineage
from keeneye.lineage.build import mlflow_run
from keeneye.server.auth import require_token
from keeneye.server.errors import ApiError
from keeneye.server.ingest import check_model_name
from keeneye.server.limits import check_version
from keeneye.server.privacy import enforce_on_baseline
from keeneye.server.schemas import ERROR_RESPONSES, ErrorEnvelope
from keeneye.store.records import DataSource

if TYPE_CHECKING:
    from keeneye.integrations.mlflow import RunDetails

router = APIRouter(prefix="/v1", tags=["lineage"], dependencies=[Depends(require_token)])

#: MLflow runs kept in memory (a run's params and metrics are fixed once it is registered).
RUN_CACHE_SIZE = 256


class BaselineSourceIn(BaseModel):
    """Body of ``PUT …/baseline/source``."""

    source: str = Field(
        description="A source URI this server reads: dvc://REPO_PATH/path/to/data.parquet@REV "
        "or feast://REPO_PATH?feature_service=NAME&start=ISO&end=ISO",
        examples=[
            "dvc:///srv/repo/data/train.parquet@v1.2",
            "feast:///srv/features?feature_service=churn_v3&start=2026-01-01&end=2026-02-01",
        ],
    )


class DataSourceOut(BaseModel):
    """One registration of a baseline: where its table came from."""

    kind: str = Field(description="file, upload, table, dvc, feast or mlflow")
    uri: str
    recorded_at: datetime
    rows: int
    columns: list[str]
    digest: str = Field(description="Digest of the table keeneye stored")
    file_hash: str | None = Field(None, description="sha256 of a file; DVC's md5 for dvc://")
    revision: str | None = Field(None, description="DVC revision asked for (tag, branch…)")
    commit: str | None = Field(None, description="git commit the DVC revision resolved to")
    feature_service: str | None = Field(None, description="Feast feature service read")
    features: list[str] = Field([], description="Its features (the baseline's columns)")
    start: datetime | None = Field(None, description="Feast: start of the range read")
    end: datetime | None = Field(None, description="Feast: end of the range read (exclusive)")
    current: bool = Field(description="Whether the stored baseline is this registration's")


class DatasetOut(BaseModel):
    """A dataset logged as an input of the MLflow run."""

    name: str
    digest: str
    source_type: str
    source: str
    context: str | None


class MlflowRunOut(BaseModel):
    """The version's MLflow run."""

    run_id: str
    experiment_id: str
    status: str
    start_time: datetime | None
    params: dict[str, str]
    metrics: dict[str, float]
    git_commit: str | None
    source: str | None
    datasets: list[DatasetOut]


class BaselineOut(BaseModel):
    """The baseline stored now and its fitted reference."""

    rows: int
    columns: list[str]
    digest: str | None
    registered_at: datetime | None
    reference_rows: int | None
    reference_kinds: dict[str, str | None] = Field(
        description="Feature → kind in the fitted Reference (null: cannot be compared)"
    )


class LivePeriodOut(BaseModel):
    """A stretch during which the version was live."""

    since: datetime
    until: datetime | None
    previous_version: str | None
    replaced_by: str | None


class AlertOut(BaseModel):
    """An alert raised while the version was live."""

    at: datetime
    version: str
    rule: str
    subject: str
    severity: str
    summary: str
    window_start: datetime
    window_end: datetime


class LineageOut(BaseModel):
    """Body of ``GET …/lineage``."""

    model: str
    version: str
    registered_at: datetime | None
    model_uri: str | None
    mlflow_run_id: str | None
    training_data: str | None = Field(description="As registered with the version")
    git_sha: str | None
    tags: dict[str, str]
    mlflow_run: MlflowRunOut | None
    mlflow_problem: str | None = Field(description="Why the MLflow run could not be read")
    data_sources: list[DataSourceOut] = Field(description="Every baseline registration")
    baseline: BaselineOut | None
    live: list[LivePeriodOut]
    alerts: list[AlertOut]


def _source_out(source: DataSource, current: DataSource | None) -> DataSourceOut:
    return DataSourceOut(
        **{**source.to_payload(), "recorded_at": source.recorded_at},
        current=source is current,
    )


def lineage_out(lineage: Lineage) -> LineageOut:
    """The API form of a lineage."""
    run = lineage.mlflow_run
    baseline = lineage.baseline
    return LineageOut(
        model=lineage.model,
        version=lineage.version,
        registered_at=lineage.registered_at,
        model_uri=lineage.model_uri,
        mlflow_run_id=lineage.mlflow_run_id,
        training_data=lineage.training_data,
        git_sha=lineage.git_sha,
        tags=dict(lineage.tags),
        mlflow_run=None
        if run is None
        else MlflowRunOut(
            run_id=run.run_id,
            experiment_id=run.experiment_id,
            status=run.status,
            start_time=run.start_time,
            params=run.params,
            metrics=run.metrics,
            git_commit=run.git_commit,
            source=run.source,
            datasets=[
                DatasetOut(
                    name=d.name,
                    digest=d.digest,
                    source_type=d.source_type,
                    source=d.source,
                    context=d.context,
                )
                for d in run.datasets
            ],
        ),
        mlflow_problem=lineage.mlflow_problem,
        data_sources=[_source_out(s, lineage.current_source) for s in lineage.data_sources],
        baseline=None
        if baseline is None
        else BaselineOut(
            rows=baseline.rows,
            columns=list(baseline.columns),
            digest=baseline.digest,
            registered_at=baseline.registered_at,
            reference_rows=baseline.reference_rows,
            reference_kinds=dict(baseline.reference_kinds),
        ),
        live=[
            LivePeriodOut(
                since=p.since,
                until=p.until,
                previous_version=p.previous_version,
                replaced_by=p.replaced_by,
            )
            for p in lineage.live
        ],
        alerts=[
            AlertOut(
                at=a.at,
                version=a.version,
                rule=a.rule,
                subject=a.subject,
                severity=a.severity,
                summary=a.summary,
                window_start=a.window_start,
                window_end=a.window_end,
            )
            for a in lineage.alerts
        ],
    )


class RunCache:
    """MLflow runs already fetched, so a page view does not call the tracking server again."""

    def __init__(self, size: int = RUN_CACHE_SIZE) -> None:
        self._runs: OrderedDict[str, RunDetails] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def __call__(self, run_id: str) -> RunDetails:
        with self._lock:
            if run_id in self._runs:
                self._runs.move_to_end(run_id)
                return self._runs[run_id]
        run = mlflow_run(run_id)
        with self._lock:
            self._runs[run_id] = run
            while len(self._runs) > self._size:
                self._runs.popitem(last=False)
        return run


def lineage_of(request: Request, model: str, version: str) -> Lineage:
    """The lineage through the app's store and MLflow run cache (blocking)."""
    state = request.app.state
    return build_lineage(state.store, model, version, run_lookup=state.mlflow_runs)


@router.put(
    "/models/{model}/versions/{version}/baseline/source",
    status_code=201,
    responses=ERROR_RESPONSES,
    summary="Register a version's baseline from a source URI",
)
async def put_baseline_source(
    model: str, version: str, body: BaselineSourceIn, request: Request
) -> dict[str, Any]:
    """Read the training data that ``source`` names (``dvc://REPO_PATH/file.parquet@REV``, on
    this server's machine) and register it; the revision, commit and file hash join the
    version's lineage. Replaces an earlier baseline."""
    check_model_name(model)
    check_version(version, "version")
    if source_scheme(body.source) is None:
        known = ", ".join(f"{s}://" for s in sorted(RESOLVERS))
        raise ApiError(
            422,
            "invalid_request",
            f"source: {body.source!r} is not a source URI; use {known} (upload a file with "
            "PUT …/baseline instead)",
        )
    policy = request.app.state.privacy.get(model)
    store, now = request.app.state.store, request.app.state.clock.now()

    def register() -> BaselineInfo:
        # The source is read here and the model's privacy policy applied before anything is
        # stored, as for an upload; the lineage still names the source it came from.
        resolved = resolve_source(body.source)
        table = enforce_on_baseline(policy, resolved.table)
        return register_baseline(store, model, version, table, now=now, origin=resolved.origin)

    try:
        info = await run_in_threadpool(register)
    except MissingExtraError as exc:
        raise ApiError(
            501, "extra_missing", f"this server cannot read {body.source}: {exc}"
        ) from exc
    return info.to_dict()


@router.get(
    "/models/{model}/versions/{version}/lineage",
    response_model=LineageOut,
    responses=ERROR_RESPONSES,
    summary="A version's lineage",
)
async def get_lineage(model: str, version: str, request: Request) -> LineageOut:
    """Where the version came from (model URI, MLflow run with params, metrics and git commit),
    what it was trained on (every baseline registration: file digest, DVC revision and md5, Feast
    feature service, features and range, MLflow datasets), its baseline and fitted reference,
    when it was live and replaced, and the alerts raised while it was live."""
    check_model_name(model)
    check_version(version, "version")
    lineage = await run_in_threadpool(lineage_of, request, model, version)
    return lineage_out(lineage)


class FeatureSkewOut(BaseModel):
    """One feature served online against the offline store."""

    feature: str
    compared: int = Field(description="Entity keys compared")
    mismatches: int = Field(description="Keys whose online value differs from the offline one")
    mismatch_share: float
    missing_online: int = Field(description="Keys with an offline value but none online")
    mean_difference: float | None = Field(description="Mean of online − offline (numeric)")
    mean_abs_difference: float | None
    max_abs_difference: float | None


class SkewOut(BaseModel):
    """Body of ``GET …/skew``."""

    model: str
    version: str
    uri: str = Field(description="The feast:// source the baseline came from")
    feature_service: str
    checked_at: datetime
    entity_keys: list[str] = Field(description="Join keys of the service's feature views")
    sampled: int = Field(description="Entity keys compared")
    features: list[FeatureSkewOut]


@router.get(
    "/models/{model}/versions/{version}/skew",
    response_model=SkewOut,
    responses={
        **ERROR_RESPONSES,
        409: {"model": ErrorEnvelope, "description": "conflict: the baseline is not from Feast"},
    },
    summary="Training-serving skew of a version's Feast features",
)
async def get_skew(
    model: str,
    version: str,
    request: Request,
    sample: int = Query(DEFAULT_SAMPLE, ge=1, le=100_000, description="Entity keys compared"),
) -> SkewOut:
    """For ``sample`` entity keys of the version's Feast baseline, the features Feast serves
    online against the offline store's latest values for the same keys: per feature the share
    of mismatches and the online − offline difference. 409 when the version's baseline did not
    come from Feast (the request is right, the version's state does not allow it); 501 when
    this server lacks the ``feast`` extra."""
    check_model_name(model)
    check_version(version, "version")
    try:
        await run_in_threadpool(feast_source, request.app.state.store, model, version)
    except InputError as exc:
        raise ApiError(409, "conflict", str(exc)) from exc
    try:
        report = await run_in_threadpool(
            check_skew, request.app.state.store, model, version, sample=sample
        )
    except MissingExtraError as exc:
        raise ApiError(501, "extra_missing", f"this server cannot read Feast: {exc}") from exc
    return SkewOut.model_validate(report_payload(report))


def setup(app: FastAPI) -> None:
    """One MLflow run cache per app."""
    app.state.mlflow_runs = RunCache()
