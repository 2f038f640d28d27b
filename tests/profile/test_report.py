"""Report JSON: round trips, and payloads stored by the previous version (format 1) still load."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import keeneye
from keeneye.profile.reference import Reference
from keeneye.profile.report import (
    PREDICTION_FEATURE,
    REPORT_FORMAT,
    DriftSection,
    Report,
    TrafficComparison,
    TrafficSection,
)

FORMAT_1 = json.loads((Path(__file__).parent / "data" / "format1_payloads.json").read_text())


def drift_report(seed: int = 0) -> Report:
    rng = np.random.default_rng(seed)
    reference = Reference.fit_baseline(
        pa.table(
            {
                "age": rng.normal(40, 10, 800),
                "plan": rng.choice(["a", "b", "c"], 800),
                "flag": rng.choice([True, False], 800),
                "constant": np.ones(800),
                "prediction": rng.uniform(0, 1, 800),
            }
        )
    )
    current = pa.table(
        {
            "age": rng.normal(45, 10, 300),
            "plan": rng.choice(["a", "b", "d"], 300),
            "flag": pa.nulls(300, pa.bool_()),
            "constant": np.ones(300),
            "prediction": rng.uniform(0.2, 1, 300),
        }
    )
    return reference.compare(current)


def test_drift_report_round_trips_through_json() -> None:
    report = drift_report()
    assert report.drift is not None and report.drift.prediction is not None
    text = report.to_json()
    assert json.loads(text)["format"] == REPORT_FORMAT
    back = Report.from_json(text)
    assert back == report
    assert Report.from_json(back.to_json()) == back
    # strict JSON: no NaN or infinity on the wire
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))


def test_report_from_keeneye_compare_round_trips() -> None:
    rng = np.random.default_rng(3)
    result = keeneye.compare(
        {"x": rng.normal(0, 1, 500), "c": rng.choice(["u", "v"], 500)},
        {"x": rng.normal(0.4, 1, 500), "c": rng.choice(["u", "v"], 500), "new": [1] * 500},
    )
    assert Report.from_json(result.report.to_json()) == result.report
    assert result.drift["new"].reason == "not tested: column missing in reference data"


def test_every_section_round_trips() -> None:
    traffic = TrafficSection(
        events=10,
        by_version={"1": 7, "2": 3},
        weekend=True,
        compared={"day": TrafficComparison("2026-01-01T00:00:00+00:00", 20, -0.5, False)},
    )
    report = Report(window="hourly", traffic=traffic)
    assert Report.from_json(report.to_json()) == report


@pytest.mark.parametrize("kind", ["drift", "summary", "traffic", "performance"])
def test_format_1_payloads_of_the_previous_version_load(kind: str) -> None:
    report = Report.from_payload(FORMAT_1[kind], kind)
    assert report.window == "daily"
    assert report.fingerprint is not None and report.fingerprint.events == 200
    section = getattr(report, kind)
    assert section is not None
    # and they are written back in the current format, which round-trips
    assert Report.from_json(report.to_json()) == report


def test_format_1_fields_read_as_attributes() -> None:
    drift = Report.from_payload(FORMAT_1["drift"], "drift").drift
    assert drift is not None
    raw = FORMAT_1["drift"]
    assert drift.drift_share == raw["drift_share"]
    assert [f.feature for f in drift.features] == [f["feature"] for f in raw["features"]]
    assert drift.features[0].p_value == raw["features"][0]["p_value"]
    assert drift.prediction is not None and drift.prediction.method == "ks"
    assert drift["__prediction__"].p_value == raw["prediction"]["p_value"]
    summary = Report.from_payload(FORMAT_1["summary"], "summary").summary
    assert summary is not None
    age = summary.features["age"]
    raw_age = FORMAT_1["summary"]["features"]["age"]
    assert age.summary is not None and age.summary.mean == raw_age["summary"]["mean"]
    assert age.summary.quantile(0.5) == raw_age["summary"]["quantiles"]["0.5"]
    assert age.out_of_range_ratio == raw_age["out_of_range_ratio"]
    performance = Report.from_payload(FORMAT_1["performance"], "performance").performance
    assert performance is not None and performance.labels == 150
    assert performance.metrics == FORMAT_1["performance"]["performance"]["metrics"]
    traffic = Report.from_payload(FORMAT_1["traffic"], "traffic").traffic
    assert traffic is not None and traffic.by_version == {"1": 200}


def test_drift_rows_name_the_prediction_once() -> None:
    report = drift_report()
    assert report.drift is not None
    names = [row.feature for row in report.drift.rows()]
    assert names[-1] == PREDICTION_FEATURE and names.count(PREDICTION_FEATURE) == 1


def test_a_newer_format_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match=r"newer than this keeneye reads.*upgrade keeneye"):
        Report.from_payload({"format": REPORT_FORMAT + 1})


def test_non_finite_numbers_are_stored_as_null() -> None:
    section = DriftSection(drift_share=math.nan)
    payload = Report(drift=section).to_payload()
    assert payload["drift"]["drift_share"] is None
    # a non-optional number stored as null reads back as the field's default
    assert Report.from_payload(payload).drift == DriftSection()
