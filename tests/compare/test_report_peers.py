"""``keeneye report --estimate --multivariate``: the HTML report's estimated-performance and
multivariate-drift sections, written by the CLI and read in headless Chromium (offline)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from playwright.sync_api import sync_playwright
from sklearn import metrics as skm
from tests._peer_worlds import classifier_rows
from typer.testing import CliRunner

from keeneye import compare
from keeneye.cli import app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _world(rng: np.random.Generator, n: int, shifted: bool) -> dict[str, np.ndarray]:
    rows = classifier_rows(rng, n, spread=0.35 if shifted else 1.0)
    a = rng.normal(size=n)
    rows["a"], rows["b"] = a, (-0.8 if shifted else 0.8) * a + 0.6 * rng.normal(size=n)
    plan = rng.choice(["basic", "pro", "trial"], n, p=[0.6, 0.25, 0.15])
    rows["plan"] = plan.astype(object)
    rows["c"] = rng.normal(size=n) + np.where((plan == "trial") & shifted, 1.2, 0.0)
    if shifted:  # from the middle of the file on, 60 % of the labels contradict the model
        flip = (np.arange(n) >= n // 2) & (rng.uniform(size=n) < 0.6)
        rows["label"] = np.where(flip, 1 - rows["label"], rows["label"])
    return rows


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, np.ndarray]]:
    rng = np.random.default_rng(8)
    folder = tmp_path_factory.mktemp("peers_report")
    ref, cur = _world(rng, 4000, False), _world(rng, 1000, True)
    pq.write_table(pa.table(ref), folder / "ref.parquet")
    pq.write_table(pa.table(cur), folder / "cur.parquet")
    return folder / "ref.parquet", folder / "cur.parquet", cur


def test_compare_estimates_and_tests_jointly(
    files: tuple[Path, Path, dict[str, np.ndarray]],
) -> None:
    ref, cur, rows = files
    report = compare(ref, cur, features=["x1", "x2", "a", "b"], multivariate=True, estimate=True)
    estimated = report.report.estimated
    assert estimated is not None and estimated.method == "cbpe" and estimated.labels == 1000
    accuracy = estimated.metrics["accuracy"]
    assert accuracy.realized == pytest.approx(
        skm.accuracy_score(rows["label"], rows["prediction"]), abs=1e-12
    )
    assert accuracy.lower is not None and accuracy.upper is not None
    # half the file also has a concept shift (labels flipped): invisible to the estimate,
    # its error once the labels are known shows it
    assert accuracy.realized < accuracy.lower and (accuracy.error or 0.0) > 0
    assert accuracy.baseline_low is not None and accuracy.value is not None
    assert accuracy.value < accuracy.baseline_low
    multivariate = report.report.multivariate
    assert multivariate is not None and all(t.drifted for t in multivariate.tests)
    as_json = json.loads(report.to_json())
    assert as_json["estimated"]["metrics"]["accuracy"]["value"] == accuracy.value
    assert {t["method"] for t in as_json["multivariate"]["tests"]} == {
        "pca_reconstruction",
        "domain_classifier",
    }
    # a reference without scores cannot be estimated: exit 2, a message that says what to add
    bare = ref.with_name("bare.parquet")
    pq.write_table(pq.read_table(ref).drop_columns(["score"]), bare)
    result = CliRunner().invoke(
        app, ["compare", str(bare), str(cur), "--estimate", "--features", "x1"]
    )
    assert result.exit_code == 2
    assert "error:" in result.output and "'score'" in result.output


def test_report_shows_both_sections_in_chromium(
    files: tuple[Path, Path, dict[str, np.ndarray]], tmp_path: Path
) -> None:
    ref, cur, _ = files
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        app,
        ["report", str(ref), str(cur), "-o", str(out), "--features", "x1,x2,a,b,c",
         "--estimate", "--multivariate", "--segment", "plan", "--online", "error"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    console: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            page.goto(out.as_uri())
            page.wait_for_selector(".js-plotly-plot", timeout=30_000)
            heading = page.locator("#estimated-performance h2").inner_text()
            assert "CBPE" in heading
            accuracy = page.locator('#estimate-table tr[data-metric="accuracy"]')
            assert accuracy.get_attribute("class") == "drift"
            assert page.locator("#estimate-table tbody tr").count() == 5
            for method in ("pca_reconstruction", "domain_classifier"):
                row = page.locator(f'#multivariate-table tr[data-method="{method}"]')
                assert row.locator("td.state").inner_text() == "DRIFT"
            # segments: c moved in the trial plan only
            trial = page.locator('#segment-table tr[data-segment="plan=trial"]')
            assert trial.locator("td.state").inner_text() == "DRIFT"
            assert "c" in trial.locator("td").nth(5).inner_text().split(", ")
            basic = page.locator('#segment-table tr[data-segment="plan=basic"] td').nth(5)
            assert "c" not in basic.inner_text().split(", ")
            # online: the current file's errors run above the reference's (narrowed inputs,
            # then flipped labels): ADWIN and Page-Hinkley signal changes
            for method in ("adwin", "page_hinkley"):
                row = page.locator(f'#online-table tr[data-stream="error"][data-method="{method}"]')
                assert row.get_attribute("class") == "drift"
                assert int(row.locator("td").nth(3).inner_text()) >= 1
            page.screenshot(path=str(out.with_suffix(".png")), full_page=True)
        finally:
            browser.close()
    assert console == []
