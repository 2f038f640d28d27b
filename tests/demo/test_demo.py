"""The whole demo, once, with the server's default windows (hourly and daily, analysed every
simulated hour): every injected incident is detected in its window by the right rule on the
right subject, and no alert — hourly or daily — falls on a clean window.

Tolerance: an incident of day d must be reported by the run at d+1 00:01 (when its daily window
completes); incidents revealed by labels, which land three days later at 06:00, by the run after
they land (each incident's ``detect_by`` in the plan). Incidents that show within an hour
(missing column, NaN burst, rescale) must also be reported by the hourly run right after their
first hour. An alert counts for an incident only when its window overlaps the incident.
"""

from __future__ import annotations

import json
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from keeneye.cli import app
from keeneye.demo import DemoOptions, DemoResult, run_demo
from keeneye.demo.scenario import DAY, HOUR, MODEL
from keeneye.store import open_store


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoResult, dict[str, object]]:
    store = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    live: dict[str, object] = {}

    def inspect_live_server(result: DemoResult) -> None:
        # the collector still serves after the replay: its API and /metrics see the results
        live["metrics"] = httpx.get(f"{result.url}/metrics", timeout=30).text
        live["model"] = httpx.get(f"{result.url}/v1/models/{MODEL}", timeout=30).json()
        live["alerts"] = httpx.get(f"{result.url}/v1/alerts", timeout=30).json()
        live["cli"] = CliRunner().invoke(
            app, ["alerts", "--url", result.url, "--model", MODEL, "--json", "--limit", "5"]
        )

    result = run_demo(DemoOptions(store=store, port=0, seed=0), keep_serving=inspect_live_server)
    live["store"] = store
    return result, live


def test_every_incident_is_detected_in_its_window(demo: tuple[DemoResult, dict]) -> None:
    result, _ = demo
    assert result.events > 50_000 and result.labels > 40_000 and result.dropped == 0
    for incident in result.scenario.incidents:
        for expected in incident.expected:
            hits = [
                d
                for d in result.detections
                if d.alert.rule == expected.rule
                and d.alert.subject == expected.subject
                and d.alert.window_start < incident.end
                and d.alert.window_end > incident.start
                and d.reported_at <= incident.detect_by
            ]
            assert hits, f"{incident.name}: no {expected.rule}/{expected.subject} alert"
    outcome = {o.incident.name: o for o in result.outcomes}
    assert all(o.detected for o in result.outcomes), [o.note for o in result.outcomes]
    # labels reveal the concept drift only once they land, three days later
    concept = outcome["concept_drift"]
    assert concept.first_detection is not None
    assert concept.first_detection >= concept.incident.start + 3 * DAY
    # the new version is analysed against its own baseline from its first window
    assert outcome["new_version"].detected


def test_hourly_windows_catch_incidents_within_the_hour(demo: tuple[DemoResult, dict]) -> None:
    result, _ = demo
    outcome = {o.incident.name: o for o in result.outcomes}
    # the run after the incident's first hour (its end + the one-minute grace) reports it
    for name in ("missing_column", "nan_burst", "rescale"):
        o = outcome[name]
        assert o.first_detection is not None, o.note
        assert o.first_detection <= o.incident.start + HOUR + timedelta(minutes=2), o.note
    # half traffic: the daily window (-50 %, ~15 sigmas) and most of the day's hourly windows
    half = outcome["half_traffic"].incident
    hourly = {
        d.alert.window_start
        for d in result.detections
        if d.alert.rule == "traffic" and d.alert.subject == "hourly"
    }
    assert hourly and all(half.start <= start < half.end for start in hourly)
    assert len(hourly) >= 12, sorted(hourly)
    daily = [
        d for d in result.detections if d.alert.rule == "traffic" and d.alert.subject == "daily"
    ]
    assert [d.alert.window_start for d in daily] == [half.start]


def test_hourly_drift_is_computed_but_alerts_only_daily(demo: tuple[DemoResult, dict]) -> None:
    result, live = demo
    # alerts.drift_windows (default: daily): hundreds of hourly windows × 11 tests would raise
    # false alarms at any fixed significance level, so hourly drift is exported, not alerted
    drift_alerts = [d.alert for d in result.detections if "drift" in d.alert.rule]
    assert drift_alerts and {a.details["window"] for a in drift_alerts} == {"daily"}
    with closing(open_store(Path(str(live["store"])))) as opened:
        hourly = [
            r
            for r in opened.load_results(MODEL, kind="drift")
            if r.payload.get("window") == "hourly"
        ]
    assert len(hourly) >= 20 * 24
    # a feature_drift alert reports the quantity its verdict compared, in one unit
    for alert in drift_alerts:
        if alert.rule == "feature_drift" and alert.details["decided_by"] == "effect_size":
            assert alert.value is not None and alert.threshold is not None
            assert alert.value >= alert.threshold
        elif alert.rule == "feature_drift":
            assert alert.value is not None and alert.threshold is not None
            assert alert.value < alert.threshold


def test_clean_days_raise_no_alert(demo: tuple[DemoResult, dict]) -> None:
    result, _ = demo
    scenario = result.scenario
    clean_days = [
        scenario.start + d * DAY
        for d in range(scenario.days)
        if scenario.clean(scenario.start + d * DAY, scenario.start + (d + 1) * DAY)
    ]
    assert len(clean_days) >= 10
    on_clean = [
        d.alert.summary
        for d in result.detections
        if any(day <= d.alert.window_start < day + DAY for day in clean_days)
    ]
    assert on_clean == []
    assert result.unexplained == ()
    assert result.ok


def test_notifications_fire_and_resolve(demo: tuple[DemoResult, dict]) -> None:
    result, live = demo
    kinds: dict[str, list[str]] = {}
    for sent in result.notifications:
        # one message per model and evaluation (notify.group): its parts are the alerts
        for part in sent.message.parts or (sent.message,):
            kinds.setdefault(part.alert.key, []).append(part.kind.value)
    for key in (
        f"{MODEL}/1/feature_drift/mean_texture",
        f"{MODEL}/1/missing_values/mean_smoothness",
        f"{MODEL}/*/traffic/daily",
        f"{MODEL}/1/nonfinite_prediction/__prediction__",
        f"{MODEL}/1/out_of_range/mean_area",
        f"{MODEL}/1/performance/accuracy",
    ):
        assert kinds.get(key, [])[:1] == ["firing"], (key, kinds.get(key))
        assert kinds[key][-1] == "resolved", (key, kinds[key])
    assert result.delivery.failed == 0

    cli = live["cli"]
    assert cli.exit_code == 0, cli.output  # type: ignore[attr-defined]
    newest = [json.loads(line) for line in cli.output.splitlines()]  # type: ignore[attr-defined]
    history = live["alerts"]["alerts"]  # type: ignore[index]
    assert newest == history[:5]
    statuses = {(h["key"], h["status"]) for h in history}
    assert (f"{MODEL}/*/traffic/daily", "firing") in statuses
    assert (f"{MODEL}/*/traffic/daily", "resolved") in statuses
    assert (f"{MODEL}/*/traffic/daily", "sent") in statuses


def test_live_server_exposes_results(demo: tuple[DemoResult, dict]) -> None:
    _, live = demo
    model = live["model"]
    assert model["live_version"] == "2"  # type: ignore[index]
    metrics = str(live["metrics"])
    # the latest hourly and daily windows are both exported
    for window in ("hourly", "daily"):
        assert any(
            line.startswith("keeneye_feature_drift_score{") and f'window="{window}"' in line
            for line in metrics.splitlines()
        ), window


def test_cli_lists_the_demo_alerts_and_refuses_to_reuse_a_store(
    demo: tuple[DemoResult, dict],
) -> None:
    _, live = demo
    store = Path(str(live["store"]))
    listed = CliRunner().invoke(app, ["alerts", "--store", str(store), "--json", "--limit", "500"])
    assert listed.exit_code == 0, listed.output
    records = [json.loads(line) for line in listed.output.splitlines()]
    with closing(open_store(store)) as opened:
        assert len(records) == len(opened.list_alerts(limit=500))
    assert {r["status"] for r in records} == {"firing", "resolved", "sent"}

    again = CliRunner().invoke(app, ["demo", "--once", "--port", "0", "--store", str(store)])
    assert again.exit_code == 1
    assert "already exists" in again.output
