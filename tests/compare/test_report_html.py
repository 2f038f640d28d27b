"""The self-contained HTML drift report: ``DriftReport.save_html`` and ``keeneye report``."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from markupsafe import escape
from typer.testing import CliRunner

from keeneye import DriftReport, compare
from keeneye.cli import app
from keeneye.report.charts import Histogram


class _Page(HTMLParser):
    """Collects what the checks need: resources loaded, table rows, scripts, element ids."""

    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []
        self.rows: list[tuple[str, str]] = []  # (css class, feature) of the feature table
        self.ids: set[str] = set()
        self.scripts: list[str] = []
        self._in_script = False
        self._in_feature_table = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        for name in ("src", "href"):
            value = attributes.get(name) or ""
            if tag in ("script", "link", "img", "iframe") and value and not value.startswith("#"):
                self.external.append(value)
        if tag == "table":
            self._in_feature_table = attributes.get("id") == "feature-table"
        if tag == "tr" and self._in_feature_table and "data-feature" in attributes:
            self.rows.append((attributes.get("class") or "", attributes["data-feature"] or ""))
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        if tag == "table":
            self._in_feature_table = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


@pytest.fixture(scope="module")
def report() -> DriftReport:
    rng = np.random.default_rng(31)
    n = 2000
    ref = {
        "age": rng.normal(40, 10, n),
        "city": rng.choice(["Oslo", "Rome"], n),
        "<script>alert(1)</script>": rng.normal(size=n),
        "notes": [f"note {i}" for i in range(n)],
    }
    cur = {
        "age": np.append(rng.normal(46, 10, n - 1), 1e9),
        "city": rng.choice(["Oslo", "Rome", "Lima"], n),
        "<script>alert(1)</script>": rng.normal(size=n),
        "notes": [f"note {i}" for i in range(n)],
    }
    return compare(ref, cur)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def test_save_html_writes_one_self_contained_page(report: DriftReport, tmp_path: Path) -> None:
    path = report.save_html(tmp_path / "report.html")
    html = path.read_text(encoding="utf-8")
    page = _parse(html)
    assert page.external == []  # nothing is fetched: no script src, stylesheet link or image
    assert "<script>alert(1)</script>" not in html  # feature names are escaped
    assert [feature for _, feature in page.rows] == [f.feature for f in report.features]
    assert [css for css, _ in page.rows] == ["drift", "drift", "ok", "untested"]
    plotly_bundle, charts_script = page.scripts
    assert "plotly.js (basic - minified) v" in plotly_bundle[:2000]
    assert 1_000_000 < len(plotly_bundle) < 1_300_000  # the basic bundle, not the full 4.8 MB
    charts = json.loads(re.search(r"var charts = (\[.*\]);", charts_script, re.S).group(1))  # type: ignore[union-attr]
    assert len(charts) == 3  # every tested feature has a chart; text has none
    for chart in charts:
        assert chart["id"] in page.ids
        assert [trace["name"].split(" ")[0] for trace in chart["data"]] == ["reference", "current"]
    age = next(c for c in charts if c["id"].endswith("-age-chart"))
    histogram = report.profiles["age"].chart
    assert isinstance(histogram, Histogram)
    outside = sum(histogram.outside_current)
    assert histogram.outside_current[1] >= 1  # the 1e9 is counted, not drawn
    assert age["data"][1]["name"] == f"current ({outside} outside the range shown)"
    # shares rounded to 6 significant digits
    assert sum(age["data"][1]["y"]) == pytest.approx(1.0 - outside / 2000, abs=1e-5)
    assert sum(age["data"][0]["y"]) == pytest.approx(
        1.0 - sum(histogram.outside_reference) / 2000, abs=1e-5
    )
    edges = np.asarray(histogram.edges)
    cur_age = report.profiles["age"]
    assert cur_age.current is not None and cur_age.current.max == 1e9 and edges[-1] < 1e9
    city = next(c for c in charts if c["id"].endswith("-city-chart"))
    assert set(city["data"][1]["x"]) == {"Oslo", "Rome", "Lima"}
    assert "quality-findings" in page.ids
    city_issues = report.issues("city")
    assert any("'Lima'" in issue for issue in city_issues)
    for issue in city_issues:  # listed, HTML-escaped
        assert str(escape(issue)) in html


def test_notebook_html_is_a_light_fragment(report: DriftReport) -> None:
    fragment = report._repr_html_()
    page = _parse(fragment)
    assert "<html" not in fragment and page.scripts == []
    assert [feature for _, feature in page.rows] == [f.feature for f in report.features]


def test_report_command(tmp_path: Path) -> None:
    rng = np.random.default_rng(32)
    for name, shift in (("ref.parquet", 0.0), ("cur.parquet", 1.0)):
        pq.write_table(pa.table({"x": rng.normal(shift, 1, 500)}), tmp_path / name)
    runner = CliRunner()
    out = tmp_path / "drift.html"
    args = ["report", str(tmp_path / "ref.parquet"), str(tmp_path / "cur.parquet")]
    result = runner.invoke(app, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip() == f"wrote {out}"
    assert [f for _, f in _parse(out.read_text(encoding="utf-8")).rows] == ["x"]
    missing = runner.invoke(
        app, ["report", str(tmp_path / "nope.parquet"), args[2], "-o", str(out)]
    )
    assert missing.exit_code == 2
    assert missing.stderr.strip().endswith("nope.parquet' does not exist")
    unwritable = runner.invoke(app, [*args, "-o", str(tmp_path / "no" / "such" / "dir.html")])
    assert unwritable.exit_code == 2
    assert unwritable.stderr.startswith("error: cannot write ")
    assert "No such file or directory" in unwritable.stderr


def test_a_25_feature_report_is_small_loads_plotly_once_and_paints_only_drift_red(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(25)
    n = 20_000

    def table(shift: float) -> pa.Table:
        columns = {f"x{i}": rng.normal(shift * (i % 2), 1, n) for i in range(20)}
        columns |= {f"c{i}": rng.choice(list("abcdefgh"), n) for i in range(5)}
        return pa.table(columns)

    report = compare(table(0.0), table(0.5))
    path = report.save_html(tmp_path / "report.html")
    html = path.read_text(encoding="utf-8")
    assert path.stat().st_size < 1_500_000, path.stat().st_size
    page = _parse(html)
    assert html.count("plotly.js (basic") == 1 and len(page.scripts) == 2
    charts = json.loads(re.search(r"var charts = (\[.*\]);", page.scripts[1], re.S).group(1))  # type: ignore[union-attr]
    assert len(charts) == 25
    states = {feature: css for css, feature in page.rows}
    for chart in charts:
        feature = re.fullmatch(r"feature-\d+-(.*)-chart", chart["id"]).group(1)  # type: ignore[union-attr]
        colour = chart["data"][1]["marker"]["color"]
        assert (colour == "#cf222e") == (states[feature] == "drift"), (feature, colour)
        assert chart["layout"]["legend"]["xanchor"] == "left"  # the mode bar is on the right
        for trace in chart["data"]:
            assert all(len(repr(v)) <= 14 for v in trace["y"])  # rounded
    assert {states[f"x{i}"] for i in range(0, 20, 2)} == {"ok"}
    assert {states[f"x{i}"] for i in range(1, 20, 2)} == {"drift"}
