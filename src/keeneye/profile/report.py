"""The :class:`Report`: what one comparison (or one analysis window) found, as frozen typed
sections — drift, summary and quality, traffic, performance and bias — with a versioned JSON form.

Every stored analysis result is the JSON of a report holding one section (its kind says which):
rules, ``/metrics``, the UI and notifications read a report's attributes, never payload keys.

JSON formats
------------
``format`` 2 (written now): ``{"format": 2, "window": ..., "fingerprint": ..., "<section>": ...}``
with each section the typed encoding of its dataclass. Format 1 (results stored before the
report existed) is the same shape without ``format``: the section's fields lay at the top level
of the payload. :meth:`Report.from_payload` reads both; :meth:`Report.from_json` round-trips
:meth:`Report.to_json`.

>>> r = Report(window="daily", traffic=TrafficSection(events=3, by_version={"1": 3}))
>>> Report.from_json(r.to_json()) == r
True
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from keeneye.profile._codec import decode, encode
from keeneye.stats.budget import WindowBudget
from keeneye.stats.multivariate import MultivariateDrift
from keeneye.stats.online import OnlineResult
from keeneye.stats.options import DriftOptions
from keeneye.stats.outliers import ClientBurst
from keeneye.stats.results import FeatureDrift

#: The JSON format :meth:`Report.to_payload` writes.
REPORT_FORMAT = 2
#: The name the prediction (the model's score or class) has among drift rows, in alerts,
#: ``/metrics`` labels and the UI: one pseudo-feature name everywhere.
PREDICTION_FEATURE = "__prediction__"
#: Invalid-value markers that are not invalid values: explicit missing values and values of
#: features outside the model's schema (see :attr:`FeatureStats.invalid_count`).
NOT_INVALID_MARKERS = frozenset({"missing", "unknown_feature"})
#: Result kinds that hold a report section, and the section's attribute.
SECTION_KINDS: Mapping[str, str] = {
    "drift": "drift",
    "summary": "summary",
    "traffic": "traffic",
    "performance": "performance",
    "estimated": "estimated",
    "multivariate": "multivariate",
    "segments": "segments",
    "online": "online",
}


@dataclass(frozen=True)
class Fingerprint:
    """What a window held when it was computed; a change means late data landed in it.

    ``events`` counts the predictions in the window, ``labels`` the labels joined to them, and
    ``last_label_at`` is the newest label time (a replaced label changes it even when the count
    stays the same).
    """

    events: int
    labels: int
    last_label_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"events": self.events, "labels": self.labels, "last_label_at": self.last_label_at}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Fingerprint | None:
        if not data:
            return None
        return cls(int(data["events"]), int(data["labels"]), data.get("last_label_at"))


# --------------------------------------------------------------------------- summary section


@dataclass(frozen=True)
class SummaryStats:
    """A column summary as stored (``keeneye.stats.ColumnSummary.to_dict``)."""

    kind: str | None = None
    count: int = 0
    missing: int = 0
    nan: int = 0
    pos_inf: int = 0
    neg_inf: int = 0
    wrong_type: int = 0
    distinct: int = 0
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None
    quantiles: Mapping[str, float | None] = field(default_factory=dict)
    top: tuple[tuple[Any, float], ...] = ()
    types: Mapping[str, int] = field(default_factory=dict)

    def quantile(self, q: float) -> float | None:
        """The stored ``q`` quantile (``None`` when not stored)."""
        return self.quantiles.get(str(q))


@dataclass(frozen=True)
class QualityStats:
    """Data-quality findings of one feature against its reference."""

    kind: str | None = None
    out_of_range_share: float | None = None
    out_of_range_count: int = 0
    new_categories: Mapping[str, int] = field(default_factory=dict)
    missing_share_reference: float | None = None
    missing_share_current: float | None = None
    missing_share_change: float | None = None
    constant: bool = False
    type_mismatches: int = 0
    issues: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeatureStats:
    """One feature in one window: missing and invalid shares, summary, quality."""

    kind: str | None = None
    missing_ratio: float | None = None
    invalid: Mapping[str, int] = field(default_factory=dict)
    invalid_ratio: float | None = None
    problem: str | None = None
    summary: SummaryStats | None = None
    quality: QualityStats | None = None
    baseline_missing_ratio: float | None = None
    out_of_range_ratio: float | None = None
    new_categories: Mapping[str, int] = field(default_factory=dict)
    #: A baseline feature no row of the window carries (``keeneye.analysis.absent``).
    absent: bool = False

    @property
    def invalid_count(self) -> int:
        """Values of the wrong (or an unsupported) type; the markers of missing values and
        of features the model never declared are counted elsewhere (``missing_ratio``)."""
        return sum(int(n) for k, n in self.invalid.items() if k not in NOT_INVALID_MARKERS)

    @property
    def issues(self) -> tuple[str, ...]:
        return self.quality.issues if self.quality is not None else ()


@dataclass(frozen=True)
class BinCounts:
    """A window's numeric values counted on the baseline's grid of bins: bin ``k`` is
    ``[origin + k * width, origin + (k + 1) * width)``, ``counts[i]`` is bin ``first + i``,
    and ``below`` / ``above`` count the finite values too far out to keep a bin for. Windows
    counted on the same grid add up exactly, so pages draw a range from the stored windows
    without reading raw events (:func:`keeneye.report.charts.merge_grid`)."""

    origin: float = 0.0
    width: float = 1.0
    first: int = 0
    counts: tuple[int, ...] = ()
    below: int = 0
    above: int = 0


@dataclass(frozen=True)
class PredictionStats:
    """The prediction column of one window; ``histogram`` is its numeric values in the bins
    shared with the baseline's predictions (``None``: categorical, no numeric baseline
    prediction, or stored before keeneye kept it)."""

    kind: str | None = None
    missing: int = 0
    nonfinite: int = 0
    summary: SummaryStats | None = None
    histogram: BinCounts | None = None


@dataclass(frozen=True)
class LatencyStats:
    """Reported latencies of one window."""

    count: int = 0
    mean_seconds: float | None = None
    p50_seconds: float | None = None
    p90_seconds: float | None = None
    p99_seconds: float | None = None
    max_seconds: float | None = None


@dataclass(frozen=True)
class SummarySection:
    """Per-feature summaries and quality, prediction and latency summaries of one window."""

    events: int = 0
    features: Mapping[str, FeatureStats] = field(default_factory=dict)
    prediction: PredictionStats | None = None
    latency: LatencyStats | None = None
    absent_features: tuple[str, ...] = ()


# --------------------------------------------------------------------------- traffic section


@dataclass(frozen=True)
class TrafficComparison:
    """The window against one earlier window (a day or a week before)."""

    window_start: str | None = None
    events: int | None = None
    change_ratio: float | None = None
    same_day_kind: bool = True


@dataclass(frozen=True)
class TrafficSection:
    """Predictions in the window, by version, against a day and a week earlier."""

    events: int = 0
    by_version: Mapping[str, int] = field(default_factory=dict)
    weekend: bool = False
    compared: Mapping[str, TrafficComparison] = field(default_factory=dict)


# --------------------------------------------------------------------------- performance section


@dataclass(frozen=True)
class ConfusionMatrix:
    labels: tuple[str, ...] = ()
    matrix: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True)
class PerformanceStats:
    """Metrics over the labelled events (classification or regression)."""

    task: str | None = None
    n: int = 0
    metrics: Mapping[str, float | None] = field(default_factory=dict)
    classes: tuple[str, ...] = ()
    positive_class: str | None = None
    average: str | None = None
    confusion_matrix: ConfusionMatrix | None = None
    nonfinite_pairs: int | None = None


@dataclass(frozen=True)
class BiasStats:
    """Predicted against observed (see ``keeneye.analysis.performance.PredictionBias``)."""

    value: float | None = None
    normalized: float | None = None
    subject: str | None = None
    predicted: Mapping[str, float | None] = field(default_factory=dict)
    observed: Mapping[str, float | None] = field(default_factory=dict)
    #: "calibration" (mean probability vs positive rate), "class_share" or "mean"; the
    #: sampling error of ``value`` and ``value`` over it (calibration).
    method: str | None = None
    standard_error: float | None = None
    z: float | None = None


@dataclass(frozen=True)
class ExpectedRange:
    """A metric's sampling distribution on chunks of the baseline as large as the window's
    labelled rows: alert below ``low`` (higher is better) or above ``high``."""

    mean: float | None = None
    sd: float | None = None
    low: float | None = None
    high: float | None = None
    chunks: int = 0
    chunk_size: int = 0


@dataclass(frozen=True)
class LabelDelay:
    median_seconds: float | None = None
    p90_seconds: float | None = None
    max_seconds: float | None = None


@dataclass(frozen=True)
class PerformanceSection:
    """Label coverage and delay; performance and prediction bias over the labelled rows."""

    events: int = 0
    labels: int = 0
    label_coverage: float | None = None
    label_delay: LabelDelay = field(default_factory=LabelDelay)
    task: str | None = None
    performance: PerformanceStats | None = None
    bias: BiasStats | None = None
    #: What each metric is expected to be for this many labels, from the baseline's labels.
    expected: Mapping[str, ExpectedRange] = field(default_factory=dict)

    @property
    def metrics(self) -> Mapping[str, float | None]:
        return self.performance.metrics if self.performance is not None else {}


# --------------------------------------------------------------------------- drift section


@dataclass(frozen=True)
class ReferenceUsed:
    """Which reference a window was compared with (``keeneye.baseline.resolve``)."""

    kind: str | None = None
    version: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class TokenShare:
    """One of the baseline's top tokens (or ``(other)``): its share of the token occurrences
    in the reference and in the current data."""

    token: str
    reference: float
    current: float


@dataclass(frozen=True)
class TextDrift:
    """A text feature's vocabulary against its baseline (its descriptors are drift rows
    named ``feature.chars``, ``feature.oov`` …)."""

    feature: str
    vocabulary_size: int = 0
    oov_reference: float | None = None
    oov_current: float | None = None
    top_tokens: tuple[TokenShare, ...] = ()


@dataclass(frozen=True)
class EmbeddingDrift:
    """An embedding's two-sample tests (``keeneye.stats.embedding``): MMD with an RBF kernel
    and a permutation null, a cross-validated domain classifier's AUC with its interval, and
    the mean vectors' cosine distance; ``level`` is each test's share of the window's level."""

    feature: str
    dimensions: int = 0
    n_reference: int = 0
    n_current: int = 0
    mmd2: float | None = None
    mmd_p_value: float | None = None
    bandwidth: float | None = None
    permutations: int = 0
    auc: float | None = None
    auc_ci_low: float | None = None
    auc_ci_high: float | None = None
    auc_p_value: float | None = None
    cosine_distance: float | None = None
    level: float | None = None
    drifted: bool = False


@dataclass(frozen=True)
class ModalSection:
    """Text vocabularies and embedding tests of one comparison."""

    texts: tuple[TextDrift, ...] = ()
    embeddings: tuple[EmbeddingDrift, ...] = ()


@dataclass(frozen=True)
class DriftSection:
    """Per-feature drift verdicts and the dataset verdict (and the prediction's drift).

    ``features`` come drifted first, then by effect size, then the untested ones.
    ``prediction`` is the drift of the model's prediction column when the reference has one
    (``prediction_problem`` says why not, when it could not be tested).
    """

    features: tuple[FeatureDrift, ...] = ()
    dataset_drifted: bool = False
    drift_share: float = 0.0
    n_tested: int = 0
    n_drifted: int = 0
    correction: str = "holm"
    alpha: float = 0.05
    options: DriftOptions = field(default_factory=DriftOptions)
    events: int = 0
    n_current: int = 0
    problems: Mapping[str, str] = field(default_factory=dict)
    prediction: FeatureDrift | None = None
    prediction_problem: str | None = None
    reference: ReferenceUsed | None = None
    #: The window's decision level from the alert budget (``keeneye.stats.budget``).
    alert_budget: WindowBudget | None = None
    #: Baseline features no row of the window carries (reported as absent, not tested).
    absent_features: tuple[str, ...] = ()
    #: Text vocabularies and embedding tests (``None`` without such features).
    modal: ModalSection | None = None

    def __getitem__(self, feature: str) -> FeatureDrift:
        for result in self.rows():
            if result.feature == feature:
                return result
        raise KeyError(feature)

    def rows(self) -> Iterator[FeatureDrift]:
        """Every feature's row, then the prediction's (named :data:`PREDICTION_FEATURE`)."""
        yield from self.features
        if self.prediction is not None:
            yield replace(self.prediction, feature=PREDICTION_FEATURE)

    @property
    def drifted(self) -> tuple[str, ...]:
        """Features whose own test says they drifted."""
        return tuple(f.feature for f in self.features if f.drifted)


def corrected(result: FeatureDrift) -> bool:
    """The verdict alerts, ``/metrics`` and the UI show: the multiple-testing-corrected one
    when the engine made it, else the feature's own."""
    verdict = result.drifted_adjusted
    if verdict is None:
        verdict = result.drifted
    return bool(verdict)


# --------------------------------------------------------------------------- outliers section


@dataclass(frozen=True)
class OutliersSection:
    """Events of the window that are outliers against the baseline (``keeneye.stats.outliers``),
    the share's binomial test against the baseline's rate at the alert budget's level, and the
    clients flagged for bursts of outliers or near-duplicate probes."""

    events: int = 0
    outliers: int = 0
    share: float = 0.0
    expected_share: float = 0.0
    #: The baseline's calibration rows the share was tested against, and their outliers.
    baseline_outliers: int = 0
    baseline_rows: int = 0
    p_value: float = 1.0
    alpha: float = 0.0
    alert: bool = False
    threshold: float | None = None
    quantile: float | None = None
    numeric_features: tuple[str, ...] = ()
    categorical_features: tuple[str, ...] = ()
    #: Rows holding a new or rare category, per categorical feature.
    rare_categories: Mapping[str, int] = field(default_factory=dict)
    client_key: str | None = None
    bursts: tuple[ClientBurst, ...] = ()


# --------------------------------------------------------------------------- estimated performance


@dataclass(frozen=True)
class EstimatedMetric:
    """One metric estimated without labels (``keeneye.analysis.estimation``).

    ``lower``/``upper`` is the estimate's sampling-error band (``value ± z·sd``, ``sd`` from
    baseline chunks of the window's size); ``baseline_low``/``baseline_high`` the range the
    baseline gives for this many rows (the alert limit); ``realized`` the metric over the
    window's labelled rows once they arrive, ``error`` the estimate minus it.
    """

    value: float | None = None
    sd: float | None = None
    lower: float | None = None
    upper: float | None = None
    baseline_mean: float | None = None
    baseline_low: float | None = None
    baseline_high: float | None = None
    realized: float | None = None
    error: float | None = None


@dataclass(frozen=True)
class EstimatedSection:
    """Performance estimated from the window's inputs and scores: CBPE for classifiers, DLE
    for regressors; ``rows`` estimated, ``labels`` behind the realized values."""

    method: str | None = None
    task: str | None = None
    rows: int = 0
    labels: int = 0
    level: float | None = None
    z: float | None = None
    metrics: Mapping[str, EstimatedMetric] = field(default_factory=dict)
    problem: str | None = None


# --------------------------------------------------------------------------- multivariate drift


@dataclass(frozen=True)
class MultivariateSection:
    """Multivariate drift tests of one window (``keeneye.stats.multivariate``) at the share of
    the window's alert-budget level that they were given (``level``, split between them)."""

    tests: tuple[MultivariateDrift, ...] = ()
    level: float | None = None
    events: int = 0

    @property
    def drifted(self) -> bool:
        return any(t.drifted for t in self.tests)


# --------------------------------------------------------------------------- segments


@dataclass(frozen=True)
class SegmentStats:
    """One value of a segment column in one window (``keeneye.analysis.segments``).

    ``drifted`` lists the features whose drift against the baseline's rows of the same segment
    survived the correction at ``level``; ``performance`` is ``metric`` over the segment's
    labelled rows, ``baseline_performance`` over the baseline's rows of the segment, and
    ``performance_z`` their difference in standard errors (classification accuracy).
    """

    value: str = ""
    rows: int = 0
    share: float | None = None
    baseline_rows: int = 0
    baseline_share: float | None = None
    labels: int = 0
    mean_prediction: float | None = None
    n_tested: int = 0
    drifted: tuple[str, ...] = ()
    level: float | None = None
    metric: str | None = None
    performance: float | None = None
    baseline_performance: float | None = None
    performance_z: float | None = None
    performance_drop: bool = False
    problem: str | None = None


@dataclass(frozen=True)
class SegmentColumn:
    """The segments of one configured column: the baseline's top values plus ``other``."""

    column: str = ""
    segments: tuple[SegmentStats, ...] = ()


@dataclass(frozen=True)
class SegmentsSection:
    """Drift, summaries and performance per segment of one window."""

    columns: tuple[SegmentColumn, ...] = ()
    tests: int = 0

    def drivers(self) -> list[tuple[str, SegmentStats]]:
        """``(column, segment)`` pairs that drifted or lost performance."""
        return [
            (c.column, s)
            for c in self.columns
            for s in c.segments
            if s.drifted or s.performance_drop
        ]


# --------------------------------------------------------------------------- online detectors


@dataclass(frozen=True)
class OnlineSection:
    """Online change detectors over the window's streams (``keeneye.analysis.online``):
    per-prediction errors once labels land, the score, chosen numeric features."""

    results: tuple[OnlineResult, ...] = ()

    @property
    def detected(self) -> tuple[OnlineResult, ...]:
        return tuple(r for r in self.results if r.detections)


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class Report:
    """What one comparison found; every section is optional (a window job fills one)."""

    window: str | None = None
    fingerprint: Fingerprint | None = None
    drift: DriftSection | None = None
    summary: SummarySection | None = None
    traffic: TrafficSection | None = None
    performance: PerformanceSection | None = None
    #: Filled by the drift job when ``analysis.outliers.enabled`` (stored with the drift kind).
    outliers: OutliersSection | None = None
    estimated: EstimatedSection | None = None
    multivariate: MultivariateSection | None = None
    segments: SegmentsSection | None = None
    online: OnlineSection | None = None

    def to_payload(self) -> dict[str, Any]:
        """The JSON-safe dict stored for this report (format :data:`REPORT_FORMAT`)."""
        body = {"format": REPORT_FORMAT, **encode(self)}
        return {k: v for k, v in body.items() if v is not None or k == "format"}

    def to_json(self, *, indent: int | None = None) -> str:
        """:meth:`to_payload` as strict JSON (no NaN)."""
        return json.dumps(self.to_payload(), indent=indent, allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> Report:
        return cls.from_payload(json.loads(text))

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], kind: str | None = None) -> Report:
        """A stored payload of either format; ``kind`` (the result kind) names the section of
        a format-1 payload."""
        version = payload.get("format", 1)
        if version == REPORT_FORMAT:
            return decode(cls, payload)
        if version != 1:
            raise ValueError(
                f"report format {version!r} is newer than this keeneye reads ({REPORT_FORMAT}); "
                "upgrade keeneye"
            )
        return _from_format_1(payload, kind)


def _from_format_1(payload: Mapping[str, Any], kind: str | None) -> Report:
    window = payload.get("window")
    fingerprint = Fingerprint.from_dict(payload.get("fingerprint"))
    base = Report(window=str(window) if window is not None else None, fingerprint=fingerprint)
    if kind == "drift":
        body = dict(payload)
        prediction = body.pop("prediction", None)
        section = decode(DriftSection, body)
        if isinstance(prediction, Mapping) and prediction.get("method"):
            section = replace(section, prediction=decode(FeatureDrift, prediction))
        elif isinstance(prediction, Mapping):
            section = replace(section, prediction_problem=prediction.get("reason"))
        return replace(base, drift=section)
    if kind == "summary":
        return replace(base, summary=decode(SummarySection, payload))
    if kind == "traffic":
        return replace(base, traffic=decode(TrafficSection, payload))
    if kind == "performance":
        return replace(base, performance=decode(PerformanceSection, payload))
    return base


__all__ = [
    "PREDICTION_FEATURE",
    "REPORT_FORMAT",
    "BiasStats",
    "BinCounts",
    "ConfusionMatrix",
    "DriftSection",
    "EmbeddingDrift",
    "EstimatedMetric",
    "EstimatedSection",
    "FeatureStats",
    "Fingerprint",
    "LabelDelay",
    "LatencyStats",
    "ModalSection",
    "MultivariateSection",
    "OnlineSection",
    "OutliersSection",
    "PerformanceSection",
    "PerformanceStats",
    "PredictionStats",
    "QualityStats",
    "ReferenceUsed",
    "Report",
    "SegmentColumn",
    "SegmentStats",
    "SegmentsSection",
    "SummarySection",
    "SummaryStats",
    "TextDrift",
    "TokenShare",
    "TrafficComparison",
    "TrafficSection",
    "corrected",
]
