"""Done-when: a window's drift and summary results equal ``keeneye.compare`` and
``keeneye.stats`` on the same rows."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import numpy as np

from keeneye.analysis.clock import ManualClock
from keeneye.analysis.runner import AnalysisRunner
from keeneye.baseline import register_baseline
from keeneye.compare import compare
from keeneye.config import Settings
from keeneye.schema import FeatureKind
from keeneye.stats import DriftOptions, ReferenceProfile, check_quality, detect_drift, summarize
from keeneye.stats.results import json_safe
from keeneye.store.duckdb import DuckDBStore

from .conftest import MONDAY, write_day


def jsonish(value: Any) -> Any:
    return json.loads(json.dumps(json_safe(value)))


def shifted_rows(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    ages = rng.normal(46, 10, n)
    plans = rng.choice(["basic", "pro", "team"], n, p=[0.5, 0.3, 0.2])
    rows: list[dict[str, Any]] = [
        {"age": float(a), "plan": str(p)} for a, p in zip(ages, plans, strict=True)
    ]
    rows[3]["age"] = float("nan")
    rows[4]["age"] = None
    rows[5]["plan"] = "enterprise"  # a category the baseline never saw
    return rows


def test_window_results_equal_the_stats_engine(store: DuckDBStore, clock: ManualClock) -> None:
    rng = np.random.default_rng(21)
    n_ref = 2000
    baseline = {
        "age": rng.normal(40, 10, n_ref),
        "plan": rng.choice(["basic", "pro", "team"], n_ref, p=[0.5, 0.3, 0.2]).astype(object),
        "prediction": rng.uniform(0, 1, n_ref),
    }
    register_baseline(store, "churn", "1", baseline, now=clock.now())
    events = write_day(store, "churn", MONDAY, 400, rng=rng, rows=shifted_rows)
    clock.set(MONDAY + timedelta(days=1, hours=1))
    runner = AnalysisRunner(store, Settings(analysis={"windows": ["daily"]}), clock)
    runner.run_once()

    age = np.array([np.nan if e.inputs["age"] is None else e.inputs["age"] for e in events])
    plan = np.array([e.inputs["plan"] for e in events], dtype=object)
    prediction = np.array([e.prediction for e in events], dtype=np.float64)
    kinds = {"age": FeatureKind.NUMERIC, "plan": FeatureKind.CATEGORICAL}
    profile = ReferenceProfile.fit({"age": baseline["age"], "plan": baseline["plan"]}, kinds)
    # The default alert budget: one false alert per quarter of 91.3125 daily windows, shared
    # between the two features (2/3) and the prediction (1/3).
    level = 1 / 91.3125
    features_options = DriftOptions(alpha=level * 2 / 3)
    expected = detect_drift(profile, {"age": age, "plan": plan}, options=features_options)

    (drift,) = store.load_results("churn", kind="drift", version="1")
    stored = dict(drift.payload)
    for key, value in jsonish(expected.to_dict()).items():
        assert stored[key] == value, key
    assert stored["features"][0]["feature"] == "age" and stored["features"][0]["drifted"]
    pred_profile = ReferenceProfile.fit(
        {"prediction": baseline["prediction"]}, {"prediction": FeatureKind.NUMERIC}
    )
    expected_pred = detect_drift(
        pred_profile, {"prediction": prediction}, options=DriftOptions(alpha=level / 3)
    ).features[0]
    assert stored["prediction"] == jsonish(expected_pred.to_dict())

    (summary,) = store.load_results("churn", kind="summary", version="1")
    features = summary.payload["features"]
    # As sent: None is a missing value, NaN a NaN (the engine's arrays carry nulls as NaN).
    age_as_sent = np.array([e.inputs["age"] for e in events], dtype=object)
    expected_age = summarize(age_as_sent, FeatureKind.NUMERIC)
    assert (expected_age.missing, expected_age.nan) == (1, 1)
    assert features["age"]["summary"] == jsonish(expected_age.to_dict())
    assert features["plan"]["summary"] == jsonish(
        summarize(plan, FeatureKind.CATEGORICAL).to_dict()
    )
    quality = check_quality(summarize(baseline["plan"], FeatureKind.CATEGORICAL), plan)
    assert features["plan"]["new_categories"] == {"enterprise": 1}
    assert features["plan"]["quality"]["issues"] == list(quality.issues)
    age_quality = check_quality(summarize(baseline["age"], FeatureKind.NUMERIC), age)
    assert features["age"]["out_of_range_ratio"] == age_quality.out_of_range_share
    assert features["age"]["missing_ratio"] == 2 / 400  # one null and one NaN
    assert summary.payload["prediction"]["summary"] == jsonish(
        summarize(prediction, FeatureKind.NUMERIC).to_dict()
    )


def test_window_results_equal_keeneye_compare(store: DuckDBStore, clock: ManualClock) -> None:
    rng = np.random.default_rng(34)
    n_ref = 1500
    baseline = {
        "age": rng.normal(40, 10, n_ref),
        "plan": rng.choice(["basic", "pro", "team"], n_ref, p=[0.5, 0.3, 0.2]).astype(object),
    }
    baseline["age"][:5] = np.nan
    register_baseline(store, "churn", "1", baseline, now=clock.now())
    events = write_day(store, "churn", MONDAY, 500, rng=rng, rows=shifted_rows)
    clock.set(MONDAY + timedelta(days=1, hours=1))
    AnalysisRunner(store, Settings(analysis={"windows": ["daily"]}), clock).run_once()

    # The same rows as the user sent them, handed to keeneye.compare.
    current = {
        "age": [e.inputs["age"] for e in events],
        "plan": [e.inputs["plan"] for e in events],
    }
    # A window's level comes from the default alert budget (one false alert per quarter of
    # daily windows); keeneye.compare is a one-off comparison at the level it is given.
    report = compare(baseline, current, options={"alpha": 1 / 91.3125})

    (drift,) = store.load_results("churn", kind="drift", version="1")
    for key in ("dataset_drifted", "drift_share", "n_tested", "n_drifted", "correction", "alpha"):
        assert drift.payload[key] == jsonish(getattr(report, key)), key
    assert drift.payload["features"] == jsonish([f.to_dict() for f in report.features])

    (summary,) = store.load_results("churn", kind="summary", version="1")
    for name in ("age", "plan"):
        profile = report.profiles[name].to_dict()
        stored = summary.payload["features"][name]
        assert stored["summary"] == jsonish(profile["current"]), name
        assert stored["quality"] == jsonish(profile["quality"]), name
    assert summary.payload["features"]["age"]["summary"]["missing"] == 1  # the null
    assert summary.payload["features"]["age"]["summary"]["nan"] == 1  # the NaN sent as NaN
