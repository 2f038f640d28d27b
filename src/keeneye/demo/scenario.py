"""The demo's world: a model trained on a dataset that ships with scikit-learn, three weeks of
production traffic with a daily and weekly shape, and the incidents injected into it.

Everything here is a pure function of the scenario and a seed: no I/O, no clock. The replay
(:mod:`keeneye.demo.replay`) sends what this module generates through the real SDK and
collector.

Traffic rows are drawn from the breast-cancer dataset's 569 rows with a little Gaussian jitter
(a tenth of each feature's standard deviation), and the training data (the baseline) is drawn
from the same process: on a clean day production looks like training, so keeneye must stay
quiet; inside an incident it must not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import numpy.typing as npt

from keeneye.errors import InputError
from keeneye.profile.report import PREDICTION_FEATURE

#: The model's name in the demo.
MODEL = "breast-cancer"
#: The ten "mean …" features of ``load_breast_cancer``, renamed as identifiers.
FEATURES = (
    "mean_radius",
    "mean_texture",
    "mean_perimeter",
    "mean_area",
    "mean_smoothness",
    "mean_compactness",
    "mean_concavity",
    "mean_concave_points",
    "mean_symmetry",
    "mean_fractal_dimension",
)
#: Monday 2 November 2026, 00:00 UTC: the first simulated day.
DEFAULT_START = datetime(2026, 11, 2, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Expectation:
    """An alert keeneye must raise for an incident: its rule and subject."""

    rule: str
    subject: str


@dataclass(frozen=True)
class Incident:
    """Something that goes wrong in production during ``[start, end)`` (simulated time).

    ``expected`` are the alerts that must be raised for a window overlapping the incident;
    ``side_effects`` are rules whose alerts are legitimate consequences (a rescaled feature
    also moves the prediction and the accuracy). ``detect_by`` is the latest simulated time by
    which the first expected alert must have been reported.
    """

    name: str
    title: str
    kind: str
    start: datetime
    end: datetime
    detect_by: datetime
    expected: tuple[Expectation, ...]
    side_effects: frozenset[str] = frozenset()
    params: Mapping[str, Any] = field(default_factory=dict)

    def active(self, when: datetime) -> bool:
        return self.start <= when < self.end

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return start < self.end and end > self.start


@dataclass(frozen=True)
class Scenario:
    """The plan of a replay: its period, traffic shape, label delay and incidents."""

    start: datetime
    days: int
    incidents: tuple[Incident, ...]
    peak_per_hour: float = 200.0
    night_share: float = 0.45
    weekend_share: float = 0.65
    label_delay_days: int = 3
    label_hour: int = 6
    jitter: float = 0.1

    @property
    def end(self) -> datetime:
        return self.start + self.days * DAY

    def incident(self, kind: str) -> Incident | None:
        return next((i for i in self.incidents if i.kind == kind), None)

    def clean(self, start: datetime, end: datetime) -> bool:
        """Whether no incident overlaps ``[start, end)``."""
        return not any(i.overlaps(start, end) for i in self.incidents)


def default_scenario(
    start: datetime = DEFAULT_START, days: int = 21, *, hourly: bool = False
) -> Scenario:
    """Three weeks (Monday to Sunday) with seven incidents, separated by clean days.

    With ``hourly`` (hourly windows are analysed too) the half-traffic day must also alert in
    its hourly windows, not only in its daily one.

    >>> s = default_scenario()
    >>> [i.kind for i in s.incidents]  # doctest: +NORMALIZE_WHITESPACE
    ['gradual_drift', 'missing_column', 'concept_drift', 'half_traffic', 'nan_burst',
     'rescale', 'new_version']
    >>> s.clean(s.start, s.start + 7 * DAY)   # the first week is clean
    True
    """
    if start.tzinfo is None:
        raise InputError("the scenario start must be timezone-aware, e.g. tzinfo=timezone.utc")
    if start.weekday() != 0 or start != start.replace(hour=0, minute=0, second=0, microsecond=0):
        raise InputError(f"the scenario starts on a Monday at 00:00, got {start.isoformat()}")
    if days < 21:
        raise InputError(
            f"--days {days}: the incident plan needs 21 days (a clean week for the weekly "
            "comparisons, then two weeks of incidents)"
        )

    def at(day: float, hour: float = 0.0) -> datetime:
        return start + timedelta(days=day, hours=hour)

    incidents = (
        Incident(
            "gradual_drift",
            "mean_texture drifts upward, 0 → 2 σ over three days",
            "gradual_drift",
            at(8),
            at(11),
            detect_by=at(11, 1),
            expected=(Expectation("feature_drift", "mean_texture"),),
            side_effects=frozenset({"feature_drift", "performance", "prediction_bias"}),
            params={"feature": "mean_texture", "shift_sd": 2.0},
        ),
        Incident(
            "missing_column",
            "mean_smoothness stops being filled (08:00–20:00)",
            "missing_column",
            at(11, 8),
            at(11, 20),
            detect_by=at(12, 1),
            expected=(Expectation("missing_values", "mean_smoothness"),),
            side_effects=frozenset({"missing_values"}),
            params={"feature": "mean_smoothness"},
        ),
        Incident(
            "concept_drift",
            "the world changes: 35 % of outcomes differ from the model's logic (weekend)",
            "concept_drift",
            at(12),
            at(14),
            # the labels of Sunday land on Wednesday 06:00; the next run reports them
            detect_by=at(17, 1),
            expected=(Expectation("performance", "accuracy"),),
            side_effects=frozenset({"performance", "prediction_bias"}),
            params={"flip": 0.35},
        ),
        Incident(
            "half_traffic",
            "half the usual traffic all day (an upstream outage)",
            "half_traffic",
            at(15),
            at(16),
            detect_by=at(16, 1),
            expected=(Expectation("traffic", "daily"),)
            + ((Expectation("traffic", "hourly"),) if hourly else ()),
            side_effects=frozenset({"traffic"}),
            params={"factor": 0.5},
        ),
        Incident(
            "nan_burst",
            "a burst of NaN predictions (10:00–11:00)",
            "nan_burst",
            at(16, 10),
            at(16, 11),
            detect_by=at(17, 1),
            expected=(Expectation("nonfinite_prediction", PREDICTION_FEATURE),),
            side_effects=frozenset({"nonfinite_prediction", "performance", "prediction_bias"}),
            params={"share": 0.4},
        ),
        Incident(
            "rescale",
            "a preprocessing change divides mean_area by 100 (06:00–18:00)",
            "rescale",
            at(17, 6),
            at(17, 18),
            detect_by=at(18, 1),
            expected=(
                Expectation("out_of_range", "mean_area"),
                Expectation("feature_drift", "mean_area"),
            ),
            side_effects=frozenset(
                {"out_of_range", "feature_drift", "performance", "prediction_bias"}
            ),
            params={"feature": "mean_area", "factor": 0.01},
        ),
        Incident(
            "new_version",
            "version 2 (retrained) goes live with its own baseline",
            "new_version",
            at(19),
            at(19, 1),
            detect_by=at(20, 1),
            expected=(),
            params={"version": "2"},
        ),
    )
    return Scenario(start=start, days=days, incidents=incidents)


# -- traffic volume -----------------------------------------------------------------------------
def expected_volume(scenario: Scenario, hour_start: datetime) -> float:
    """Mean number of predictions in the hour starting at ``hour_start``: a daily curve (low at
    04:00, peak at 16:00), lower at weekends, times any traffic incident's factor.

    >>> s = default_scenario()
    >>> round(expected_volume(s, s.start + timedelta(hours=16)))   # Monday 16:00
    200
    >>> round(expected_volume(s, s.start + timedelta(days=5, hours=4)))   # Saturday 04:00
    58
    """
    h = hour_start.hour + hour_start.minute / 60
    daily = scenario.night_share + (1 - scenario.night_share) * 0.5 * (
        1 - math.cos(2 * math.pi * (h - 4) / 24)
    )
    weekly = scenario.weekend_share if hour_start.weekday() >= 5 else 1.0
    factor = 1.0
    for incident in scenario.incidents:
        if incident.kind == "half_traffic" and incident.active(hour_start):
            factor *= float(incident.params["factor"])
    return scenario.peak_per_hour * daily * weekly * factor


# -- the data -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class World:
    """The population production traffic is drawn from (the dataset, jitter scale)."""

    rows: npt.NDArray[np.float64]
    labels: npt.NDArray[np.int64]
    std: npt.NDArray[np.float64]
    jitter: float

    @classmethod
    def load(cls, jitter: float = 0.1) -> World:
        """The breast-cancer dataset (ships with scikit-learn: no download); label 1 =
        malignant."""
        from sklearn.datasets import load_breast_cancer

        data = load_breast_cancer()
        rows = np.asarray(data.data[:, : len(FEATURES)], dtype=np.float64)
        labels = (1 - np.asarray(data.target)).astype(np.int64)
        return cls(rows=rows, labels=labels, std=rows.std(axis=0), jitter=jitter)

    def draw(
        self, n: int, rng: np.random.Generator
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """``n`` rows and their labels: dataset rows with Gaussian jitter."""
        index = rng.integers(0, len(self.rows), n)
        noise = rng.normal(0.0, self.jitter, (n, len(FEATURES))) * self.std
        return self.rows[index] + noise, self.labels[index].copy()


@dataclass(frozen=True)
class HourBatch:
    """The predictions of one simulated hour, before they are logged."""

    version: str
    timestamps: list[datetime]
    inputs: list[dict[str, float | None]]
    predictions: list[float]
    labels: list[int]
    label_times: list[datetime]


class Generator:
    """Produces each hour's traffic, with the incidents applied, from a seeded rng."""

    def __init__(
        self,
        scenario: Scenario,
        world: World,
        models: Mapping[str, Any],
        *,
        seed: int = 0,
    ) -> None:
        self.scenario = scenario
        self.world = world
        self.models = dict(models)
        self.rng = np.random.default_rng(seed)
        self.train_mean = world.rows.mean(axis=0)

    def version_at(self, when: datetime) -> str:
        """The live version at ``when`` (the new-version incident switches it)."""
        switch = self.scenario.incident("new_version")
        if switch is not None and when >= switch.start:
            return str(switch.params["version"])
        return "1"

    def hour(self, hour_start: datetime) -> HourBatch:
        """Generate the hour that starts at ``hour_start``."""
        s, rng = self.scenario, self.rng
        n = int(rng.poisson(expected_volume(s, hour_start)))
        offsets = np.sort(rng.uniform(0.0, 3600.0, n))
        times = [hour_start + timedelta(seconds=float(o)) for o in offsets]
        x, y = self.world.draw(n, rng)
        sent = x.copy()  # what the model server logs (after its preprocessing)
        missing: list[int] = []
        nan_rows = np.zeros(n, dtype=bool)
        for incident in s.incidents:
            if not incident.active(hour_start):
                continue
            if incident.kind == "gradual_drift":
                j = FEATURES.index(str(incident.params["feature"]))
                span = (incident.end - incident.start).total_seconds()
                progress = np.array([(t - incident.start).total_seconds() / span for t in times])
                shift = float(incident.params["shift_sd"]) * progress * self.world.std[j]
                sent[:, j] += shift
            elif incident.kind == "rescale":
                j = FEATURES.index(str(incident.params["feature"]))
                sent[:, j] *= float(incident.params["factor"])
            elif incident.kind == "missing_column":
                missing.append(FEATURES.index(str(incident.params["feature"])))
            elif incident.kind == "concept_drift":
                flip = rng.random(n) < float(incident.params["flip"])
                y = np.where(flip, 1 - y, y)
            elif incident.kind == "nan_burst":
                nan_rows = rng.random(n) < float(incident.params["share"])
        model_input = sent.copy()
        for j in missing:
            model_input[:, j] = self.train_mean[j]  # the model server imputes what is missing
        version = self.version_at(hour_start)
        probabilities = self.models[version].predict_proba(model_input)[:, 1] if n else np.empty(0)
        predictions = np.where(nan_rows, np.nan, probabilities)
        # Ground truth comes from a nightly export: the labels of a day land together,
        # ``label_delay_days`` later at ``label_hour`` o'clock (54–78 hours after the prediction).
        landing = hour_start.replace(hour=s.label_hour) + timedelta(days=s.label_delay_days)
        inputs = [
            {name: (None if j in missing else float(sent[i, j])) for j, name in enumerate(FEATURES)}
            for i in range(n)
        ]
        return HourBatch(
            version=version,
            timestamps=times,
            inputs=inputs,
            predictions=[float(p) for p in predictions],
            labels=[int(v) for v in y],
            label_times=[landing] * n,
        )


@dataclass(frozen=True)
class TrainedVersion:
    """A model version and its training data (the baseline registered for it)."""

    version: str
    model: Any
    baseline: dict[str, list[float] | list[int]]


def train_versions(
    world: World, *, seed: int = 0, rows: int = 4000, versions: Sequence[str] = ("1", "2")
) -> dict[str, TrainedVersion]:
    """Train one logistic-regression pipeline per version on its own draw of training data.

    The baseline of each version holds its training features, the model's predictions on them
    (``prediction``, the reference of prediction drift) and the labels (``label``).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(seed + 1_000)
    out: dict[str, TrainedVersion] = {}
    for i, version in enumerate(versions):
        x, y = world.draw(rows, rng)
        # v2 is "retrained with stronger regularisation": a different model, same world.
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0 / (1 + 4 * i)))
        model.fit(x, y)
        baseline: dict[str, list[float] | list[int]] = {
            name: x[:, j].tolist() for j, name in enumerate(FEATURES)
        }
        baseline["prediction"] = model.predict_proba(x)[:, 1].tolist()
        baseline["label"] = y.tolist()
        out[version] = TrainedVersion(version=version, model=model, baseline=baseline)
    return out
