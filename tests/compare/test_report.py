"""The ``DriftReport`` object: exports, renderings, immutability."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from rich.console import Console

from keeneye import DriftReport, compare
from keeneye.report.drift_report import ARROW_SCHEMA


@pytest.fixture(scope="module")
def report() -> DriftReport:
    rng = np.random.default_rng(12)
    n = 1500
    x_cur = rng.normal(0.6, 1, n)
    x_cur[:5] = [np.nan, np.inf, -np.inf, np.nan, 1e9]  # non-finite values must not leak as NaN
    ref = {
        "x": rng.normal(0, 1, n),
        "y": rng.normal(0, 1, n),
        "city": rng.choice(["Oslo", "Rome"], n),
        "text": [f"row {i}" for i in range(n)],
    }
    cur = {
        "x": x_cur,
        "y": rng.normal(0, 1, n),
        "city": rng.choice(["Oslo", "Rome", "Lima"], n),
        "text": [f"row {i}" for i in range(n)],
    }
    return compare(ref, cur)


def test_to_dict_is_strict_json_and_round_trips(report: DriftReport) -> None:
    data = report.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text) == data
    assert json.loads(report.to_json()) == data
    assert data["dataset"]["drifted_features"] == list(report.drifted)
    assert [f["feature"] for f in data["features"]] == [f.feature for f in report.features]
    x_current = data["profiles"]["x"]["current"]
    assert (x_current["nan"], x_current["pos_inf"], x_current["neg_inf"]) == (2, 1, 1)
    assert data["profiles"]["city"]["quality"]["new_categories"] == {
        "Lima": pytest.approx(500, abs=100)
    }
    assert data["features"][-1]["reason"].startswith("not tested: free text")
    assert data["options"]["correction"] == "holm"


def test_properties(report: DriftReport) -> None:
    assert report.drifted[0] == "x"
    assert "city" in report.drifted  # a new category appearing in a third of the rows
    assert report.drift_share == report.n_drifted / report.n_tested
    assert report.n_tested == 3
    assert len(report) == 4 and [f.feature for f in report] == [f.feature for f in report.features]
    assert report.not_tested.keys() == {"text"}
    with pytest.raises(KeyError):
        report["nope"]


def test_order_is_drifted_first_then_by_effect_size(report: DriftReport) -> None:
    verdicts = [f.drifted for f in report.features]
    ranks = [{True: 0, False: 1, None: 2}[v] for v in verdicts]
    assert ranks == sorted(ranks)
    drifted_effects = [f.effect_size for f in report.features if f.drifted]
    assert drifted_effects == sorted(drifted_effects, reverse=True)


def test_to_arrow_and_to_pandas(report: DriftReport) -> None:
    table = report.to_arrow()
    assert table.schema == ARROW_SCHEMA
    assert table.column("feature").to_pylist() == [f.feature for f in report.features]
    assert table.column("drifted").to_pylist() == [f.drifted for f in report.features]
    assert table.column("p_value").to_pylist()[0] == report.features[0].p_value
    assert table.column("issues").to_pylist()[0] == list(report.issues(report.features[0].feature))
    frame = report.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert frame["feature"].tolist() == table.column("feature").to_pylist()
    assert frame.loc[frame["feature"] == "text", "reason"].item().startswith("not tested")


def test_plain_text_repr(report: DriftReport) -> None:
    text = str(report)
    assert repr(report) == text
    lines = text.splitlines()
    assert lines[0].startswith(
        "DRIFT DETECTED: 2 of 3 tested features drifted after holm correction "
        "(67% before correction), 1 not tested"
    )
    rows = [line for line in lines if line.startswith("| ")]
    names = [row.split("|")[1].strip() for row in rows[1:]]
    assert [name for name in names if name] == ["x", "city", "y", "text"]  # blank: wrapped lines
    assert "DRIFT" in rows[1] and "not tested" in rows[4]
    assert "\x1b[" not in text  # no colour codes in plain text
    assert "data quality:" in text
    city_issues = report.issues("city")
    assert any("'Lima'" in issue for issue in city_issues)  # the new category is named
    for issue in city_issues:
        assert f"city: {issue}" in text


def test_rich_rendering_wide_and_narrow(report: DriftReport) -> None:
    for width in (160, 80):
        console = Console(record=True, width=width, color_system="truecolor")
        console.print(report)
        text = console.export_text()
        assert "DRIFT DETECTED" in text and "x" in text and "not tested" in text
        assert all(len(line) <= width for line in text.splitlines())
    assert "statistic" not in text  # the narrow table drops that column


def test_report_is_immutable(report: DriftReport) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.dataset_drifted = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        report.profiles["x"] = report.profiles["y"]  # type: ignore[index]


def test_report_pickles(report: DriftReport) -> None:
    import pickle

    copy = pickle.loads(pickle.dumps(report))
    assert copy == report and copy.to_dict() == report.to_dict()
    with pytest.raises(TypeError):
        copy.profiles["x"] = copy.profiles["y"]  # type: ignore[index]


def test_report_with_nothing_tested_renders() -> None:
    empty = compare(pa.table({"a": pa.array([], pa.int64())}), {"b": [1]})
    assert empty.n_tested == 0 and empty.drift_share == 0.0
    assert str(empty).startswith(
        "no drift: 0 of 0 tested features drifted after holm correction "
        "(0% before correction), 2 not tested"
    )
    json.dumps(empty.to_dict(), allow_nan=False)
    assert empty.to_arrow().num_rows == 2
