"""End to end with a real local Feast repository (Parquet offline store, SQLite online store,
applied and materialised by the test) and a real ``keeneye server`` process: a baseline from a
feature service through the CLI (``--url``), a shift in data served through the SDK flagged by
the server's drift analysis, and the training-serving skew check flagging the one feature whose
online values were changed."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from prometheus_client import CollectorRegistry
from tests.lineage.feast_repo import CUSTOMERS, END, FEATURES, SERVICE, START, FeastRepo, make_repo
from tests.modelserver.conftest import BIN, spawn, stop, url_of

from keeneye import Monitor
from keeneye.profile.report import Report

MODEL = "churn"
CHANGED = 60  # customers whose online income is rewritten
INCOME_SHIFT = 5_000.0


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "keeneye"), *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> FeastRepo:
    return make_repo(tmp_path_factory.mktemp("feast") / "repo")


def halt(proc: subprocess.Popen[str]) -> None:
    stop(proc)
    if proc.stdout is not None:
        proc.stdout.close()


@pytest.mark.e2e
def test_feast_baseline_drift_and_skew_through_the_server(
    repo: FeastRepo, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    server, log = spawn(
        [str(BIN / "keeneye"), "server", "--store", str(tmp_path / "k.duckdb"), "--port", "0"],
        cwd=tmp_path,
    )
    request.addfinalizer(lambda: halt(server))
    url = url_of(server, log)

    # The baseline: the feature service's point-in-time values over [START, END).
    done = cli("baseline", "register", MODEL, "1", repo.uri(), "--url", url)
    assert done.returncode == 0, done.stderr
    training = repo.training_rows()
    assert len(training) == CUSTOMERS * 5
    assert f"{len(training)} rows, 3 columns (age, income, tenure)" in done.stdout

    lineage = httpx.get(f"{url}/v1/models/{MODEL}/versions/1/lineage", timeout=30).json()
    [source] = lineage["data_sources"]
    assert source["kind"] == "feast" and source["uri"] == repo.uri()
    assert source["feature_service"] == SERVICE
    assert source["features"] == list(FEATURES)
    assert datetime.fromisoformat(source["start"]) == START
    assert datetime.fromisoformat(source["end"]) == END
    assert source["current"] is True and source["rows"] == len(training)
    assert lineage["baseline"]["reference_kinds"] == {
        "age": "numeric",
        "income": "numeric",
        "tenure": "numeric",
    }
    # The SDK registers from the same URI (another version); a wrong service is a clear error.
    monitor = Monitor(model=MODEL, version="2", url=url, registry=CollectorRegistry())
    try:
        answer = monitor.register_baseline(repo.uri())
    finally:
        monitor.close()
    assert answer["rows"] == len(training) and answer["digest"] == source["digest"]
    bad = cli("baseline", "register", MODEL, "1", repo.uri().replace(SERVICE, "nope"), "--url", url)
    assert bad.returncode != 0 and bad.stderr.startswith("error:")
    assert "no feature service 'nope'" in bad.stderr and SERVICE in bad.stderr
    empty = httpx.put(
        f"{url}/v1/models/{MODEL}/versions/1/baseline/source",
        json={
            "source": repo.uri(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC))
        },
        timeout=60,
    )
    assert empty.status_code in (400, 422), empty.text
    assert "no rows between" in empty.json()["error"]["message"]

    # Served data with income shifted up by two standard deviations: the drift analysis flags
    # income and not age or tenure.
    rng = np.random.default_rng(3)
    served = pd.DataFrame(
        {
            "age": rng.normal(40.0, 10.0, 800),
            "income": rng.normal(66_000.0, 8_000.0, 800),
            "tenure": rng.integers(0, 120, 800).astype("int64"),
        }
    )
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)
    times = [day + timedelta(seconds=60 * i) for i in range(len(served))]
    with Monitor(MODEL, "1", url=url, registry=CollectorRegistry()) as monitor:
        sent = monitor.log_batch(served, rng.integers(0, 2, len(served)), timestamps=times)
    assert sent.stored == len(served)
    since, until = day.isoformat(), (day + timedelta(days=1)).isoformat()
    analyzed = cli("analyze", "--url", url, "--since", since, "--until", until)
    assert analyzed.returncode == 0, analyzed.stdout + analyzed.stderr
    results = httpx.get(
        f"{url}/v1/models/{MODEL}/results", params={"kind": "drift"}, timeout=60
    ).json()["results"]
    [daily] = [r for r in results if r["window"] == "daily" and r["version"] == "1"]
    drift = Report.from_payload(daily["payload"]).drift
    assert drift is not None
    flagged = {f.feature for f in drift.features if f.drifted_adjusted}
    assert "income" in flagged and not {"age", "tenure"} & flagged, drift.features

    # Skew: before any change the online store serves what the offline store holds.
    clean = cli("baseline", "skew", MODEL, "1", "--url", url, "--sample", str(CUSTOMERS))
    assert clean.returncode == 0, clean.stderr
    assert "0 of 3 features skewed" in clean.stdout

    # A serving pipeline writes different incomes for some customers straight to the online
    # store: the skew check flags income, with the share and size of the difference.
    latest = repo.rows[repo.rows["event_timestamp"] == repo.rows["event_timestamp"].max()]
    changed = latest.iloc[:CHANGED].copy()
    changed["income"] = changed["income"] + INCOME_SHIFT
    changed["event_timestamp"] = changed["event_timestamp"] + pd.Timedelta(seconds=1)
    repo.write_online(changed.reset_index(drop=True))

    skew = httpx.get(
        f"{url}/v1/models/{MODEL}/versions/1/skew", params={"sample": CUSTOMERS}, timeout=120
    )
    assert skew.status_code == 200, skew.text
    body = skew.json()
    assert body["sampled"] == CUSTOMERS and body["entity_keys"] == ["customer_id"]
    by_feature = {f["feature"]: f for f in body["features"]}
    assert set(by_feature) == set(FEATURES)
    income = by_feature["income"]
    assert income["mismatches"] == CHANGED
    assert income["mismatch_share"] == pytest.approx(CHANGED / CUSTOMERS)
    assert income["mean_difference"] == pytest.approx(INCOME_SHIFT * CHANGED / CUSTOMERS)
    assert income["max_abs_difference"] == pytest.approx(INCOME_SHIFT)
    for name in ("age", "tenure"):
        assert by_feature[name]["mismatches"] == 0, by_feature[name]
        assert by_feature[name]["max_abs_difference"] == pytest.approx(0.0, abs=1e-9)

    printed = cli("baseline", "skew", MODEL, "1", "--url", url, "--sample", str(CUSTOMERS))
    assert printed.returncode == 0, printed.stderr
    assert "1 of 3 features skewed: income" in printed.stdout
    # the lineage page shows it
    page = httpx.get(f"{url}/models/{MODEL}/versions/1/lineage", timeout=120)
    assert page.status_code == 200
    shown = dict(re.findall(r'data-feature="(\w+)" data-mismatches="(\d+)"', page.text))
    assert set(shown) == set(FEATURES) and int(shown["income"]) > 0, shown
    assert 'data-feature="age" data-mismatches="0"' in page.text
    assert SERVICE in page.text

    # A version whose baseline did not come from Feast: a 409 that says so.
    pd.DataFrame({"age": [1.0, 2.0]}).to_parquet(tmp_path / "small.parquet")
    up = cli("baseline", "register", MODEL, "3", str(tmp_path / "small.parquet"), "--url", url)
    assert up.returncode == 0, up.stderr
    other = httpx.get(f"{url}/v1/models/{MODEL}/versions/3/skew", timeout=30)
    assert other.status_code == 409 and "not from Feast" in other.text


@pytest.mark.e2e
def test_the_cli_reads_a_feature_service_into_a_stopped_store(
    repo: FeastRepo, tmp_path: Path
) -> None:
    from keeneye.store.duckdb import DuckDBStore

    path = tmp_path / "k.duckdb"
    done = cli("baseline", "register", MODEL, "7", repo.uri(), "--store", str(path), "--create")
    assert done.returncode == 0, done.stderr
    with DuckDBStore(path) as store:
        [source] = store.data_sources(MODEL, "7")
        baseline = store.load_baseline(MODEL, "7")
    assert (source.kind, source.feature_service, source.features) == ("feast", SERVICE, FEATURES)
    assert baseline is not None and baseline.column_names == list(FEATURES)
    training = repo.training_rows()
    for name in FEATURES:
        assert np.sort(baseline.column(name).to_numpy()) == pytest.approx(
            np.sort(training[name].to_numpy())
        )
    skew = cli("baseline", "skew", MODEL, "7", "--store", str(path), "--sample", "50")
    assert skew.returncode == 0, skew.stderr
    assert "50 entity keys (customer_id)" in skew.stdout
