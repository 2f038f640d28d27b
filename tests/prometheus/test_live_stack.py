"""End to end with the real servers: Alertmanager, Prometheus (started by ``keeneye stack``
with the generated config), ``keeneye server``, an instrumented model process and a webhook
sink. Drift, a traffic drop, NaN predictions and errors are injected; the alerts must fire in
Prometheus, reach the sink through Alertmanager, and resolve when the incident ends. Every
PromQL expression of the generated dashboards must return data from this Prometheus.

The day/week-ago comparisons read Prometheus history that ``promtool tsdb
create-blocks-from openmetrics`` backfills before Prometheus starts (nobody waits a week), and
keeneye's own history of a day and a week ago is sent to its API with past timestamps. The
keeneye server runs in its own process with a clock the test moves (``server_process.py``): the
drift alert resolves when the next, clean hour completes, an hour later on that clock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx
import numpy as np
import pytest

from keeneye.config import Settings
from keeneye.integrations.grafana import dashboard_expressions, fleet_dashboard, model_dashboard
from keeneye.integrations.prometheus import ExportOptions, ReceiverOptions
from keeneye.integrations.stack import stack_down, stack_status, stack_up

pytestmark = pytest.mark.e2e
HERE = Path(__file__).parent
T = TypeVar("T")
RATE = 20.0  # calls per second per model in normal mode (model_process.py)


def wait_for(what: str, check: Callable[[], T | None], timeout: float) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.25)


class Sink:
    """A webhook receiver: keeps every JSON body Alertmanager posts."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                sink.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts(self, status: str) -> set[str]:
        return {
            a["labels"]["alertname"]
            for body in list(self.bodies)
            for a in body["alerts"]
            if a["status"] == status
        }


def _start_server(tmp: Path, grace: float) -> tuple[subprocess.Popen[str], str]:
    """The keeneye server (``server_process.py``: the app of ``keeneye server``, its clock the
    wall clock plus the offset the test writes to ``tmp / "clock-offset"``)."""
    (tmp / "clock-offset").write_text("0")
    env = {
        **os.environ,
        "KEENEYE_ANALYSIS__INTERVAL_SECONDS": "3600",  # the test triggers the runs
        "KEENEYE_ANALYSIS__GRACE_SECONDS": str(int(grace)),
    }
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "server_process.py"), str(tmp / "k.duckdb"),
         str(tmp / "clock-offset")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "keeneye server listening on http://127.0.0.1:PORT"
    assert "listening on" in line, line
    url = line.strip().rsplit(" ", 1)[1]
    wait_for("keeneye server", lambda: _ok(f"{url}/v1/models"), 20)
    return proc, url


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _events(
    rng: np.random.Generator, n: int, when: float, shift: float = 0.0
) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        age = float(rng.normal(40 + shift, 10))
        out.append(
            {
                "event_id": uuid.uuid4().hex,
                "version": "1",
                "timestamp": when - 600 + i * (1200 / n),
                "inputs": {"age": age, "income": float(rng.normal(50 + shift, 10)),
                           "plan": str(rng.choice(["basic", "pro", "team"]))},
                "prediction": "yes" if age >= 40 else "no",
            }
        )  # fmt: skip
    return out


def _backfill_prometheus(tools: dict[str, str], data: Path, now: float) -> None:
    """Prometheus history a day and a week ago at the normal rate, as OpenMetrics blocks."""
    lines = ["# TYPE keeneye_predictions counter"]
    for model in ("churn", "price"):
        labels = f'model="{model}",version="1",job="keeneye-models",instance="history"'
        for days in (7, 1):
            start, end = now - days * 86400 - 600, now - days * 86400 + 900
            ts = start
            while ts <= end:
                lines.append(
                    f"keeneye_predictions_total{{{labels}}} {(ts - start) * RATE} {ts:.0f}"
                )
                ts += 2
    lines.append("# EOF")
    source = data / "history.om"
    source.write_text("\n".join(lines) + "\n")
    run = subprocess.run(
        [tools["promtool"], "tsdb", "create-blocks-from", "openmetrics", str(source),
         str(data / "prometheus")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


class Prom:
    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, expr: str) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=5)
        assert r.status_code == 200, f"{expr}: {r.text}"
        result: list[dict[str, Any]] = r.json()["data"]["result"]
        return result

    def query_range(self, expr: str, start: float, end: float) -> list[dict[str, Any]]:
        r = httpx.get(
            f"{self.url}/api/v1/query_range",
            params={"query": expr, "start": start, "end": end, "step": 1},
            timeout=10,
        )
        assert r.status_code == 200, f"{expr}: {r.text}"
        result: list[dict[str, Any]] = r.json()["data"]["result"]
        return result

    def firing(self) -> set[str]:
        r = httpx.get(f"{self.url}/api/v1/alerts", timeout=5).json()
        return {a["labels"]["alertname"] for a in r["data"]["alerts"] if a["state"] == "firing"}


@pytest.fixture(scope="module")
def live(
    prometheus_tools: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("live")
    sink = Sink()
    now = time.time()
    # keeneye's gauges show the latest complete hourly window: with "now - grace" in the middle
    # of the hour after the drift hour, that window stays the drift hour for 30 minutes
    # (whatever the wall-clock minute), and the test's events land in its middle. Moving the
    # server's clock an hour ahead then completes the next hour (the clean one). Both hours and
    # the one after them lie in one UTC day, so no daily window completes during the test.
    drift_hour = now // 3600 * 3600 - 7200
    while drift_hour % 86400 > 20 * 3600:
        drift_hour -= 3600
    grace = now - (drift_hour + 5400)
    middle = drift_hour + 1800
    server, server_url = _start_server(tmp, grace)
    procs: list[subprocess.Popen[Any]] = [server]
    stack = tmp / "stack"
    try:
        rng = np.random.default_rng(3)
        baseline = [e["inputs"] for e in _events(rng, 400, middle)]
        r = httpx.post(
            f"{server_url}/v1/models/churn/versions/1/baseline", json=baseline, timeout=30
        )
        assert r.status_code == 201, r.text
        for days in (1, 7):  # keeneye's own history: the same window a day and a week ago
            body = {"events": _events(rng, 300, middle - days * 86400)}
            r = httpx.post(f"{server_url}/v1/models/churn/predictions", json=body, timeout=30)
            assert r.status_code == 200, r.text
        control, port_file = tmp / "mode", tmp / "port"
        control.write_text("normal")
        model = subprocess.Popen(
            [sys.executable, str(HERE / "model_process.py"), server_url, str(control),
             str(port_file)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        procs.append(model)
        model_port = wait_for(
            "model metrics port", lambda: port_file.exists() and port_file.read_text(), 30
        )
        options = ExportOptions.from_settings(
            # the test's drift lives in an hourly window: let hourly drift alert here
            Settings.model_validate({"alerts": {"drift_windows": ["hourly", "daily"]}}),
            server_targets=[server_url.removeprefix("http://")],
            model_targets=[f"127.0.0.1:{model_port}"],
            scrape_interval="1s",
            evaluation_interval="1s",
            rate_window="10s",
            traffic_window="20s",
            traffic_for="2s",
            error_for="2s",
            group_wait="1s",
            group_interval="1s",
            repeat_interval="1h",
            receiver=ReceiverOptions(webhook_url=sink.url),
        )
        (stack / "prometheus").mkdir(parents=True)
        _backfill_prometheus(prometheus_tools, stack, time.time())
        state = stack_up(stack, options, prometheus_port=0, alertmanager_port=0)
        yield {
            "prom": Prom(state["prometheus"]["url"]),
            "am": state["alertmanager"]["url"],
            "sink": sink,
            "server": server_url,
            "control": control,
            "options": options,
            "started": now,
            "model": model,
            "stack": stack,
            "middle": middle,
            "rng": rng,
            "clock_offset": tmp / "clock-offset",
        }
    finally:
        stack_down(stack)
        if procs[1:]:
            (tmp / "mode").write_text("stop")
        for proc in reversed(procs):
            _stop(proc)
        sink.server.shutdown()
        sink.server.server_close()


def test_incident_fires_reaches_the_webhook_and_resolves(live: dict[str, Any]) -> None:
    prom: Prom = live["prom"]
    sink: Sink = live["sink"]
    # 1. keeneye's metrics are scraped: the model's SDK metrics and the server's /metrics.
    wait_for("both targets up", lambda: len(prom.query("up == 1")) == 2, 30)
    steady = f"model:keeneye_predictions:rate20s > {0.8 * RATE} < {1.2 * RATE}"
    wait_for("steady model rates", lambda: len(prom.query(steady)) == 2, 60)
    quiet = prom.firing()
    assert not quiet & {"KeeneyeTrafficChange", "KeeneyeNonFinitePredictions",
                        "KeeneyeHighErrorRatio", "KeeneyeDatasetDrift"}, quiet  # fmt: skip

    # 2. The incident: a traffic drop, NaN predictions and errors in the model process, and an
    # hour of drifted inputs (with late labels) in keeneye's latest complete window.
    live["control"].write_text("incident")
    server = live["server"]
    drifted = _events(live["rng"], 200, live["middle"], shift=30.0)
    r = httpx.post(f"{server}/v1/models/churn/predictions", json={"events": drifted}, timeout=30)
    assert r.status_code == 200, r.text
    labels = [{"event_id": e["event_id"], "label": "no"} for e in drifted[::2]]
    r = httpx.post(f"{server}/v1/models/churn/labels", json={"labels": labels}, timeout=30)
    assert r.status_code == 200, r.text
    r = httpx.post(f"{server}/v1/analysis/run", timeout=60)
    assert r.status_code == 200, r.text
    wait_for("drift gauges scraped", lambda: prom.query("keeneye_dataset_drift_share >= 0.5"), 20)
    expected = {
        "KeeneyeDatasetDrift",
        "KeeneyeTrafficChange",
        "KeeneyeNonFinitePredictions",
        "KeeneyeHighErrorRatio",
    }
    wait_for(f"{expected} firing in Prometheus", lambda: expected <= prom.firing(), 60)
    wait_for(f"{expected} delivered to the webhook", lambda: expected <= sink.alerts("firing"), 30)
    am = httpx.get(f"{live['am']}/api/v2/alerts", timeout=5).json()
    assert expected <= {a["labels"]["alertname"] for a in am}
    traffic = [
        b
        for b in sink.bodies
        for a in b["alerts"]
        if a["labels"]["alertname"] == "KeeneyeTrafficChange"
    ]
    alert = next(
        a for a in traffic[0]["alerts"] if a["labels"]["alertname"] == "KeeneyeTrafficChange"
    )
    assert alert["labels"]["source"] == "keeneye"
    assert alert["annotations"]["runbook_url"].endswith("#keeneyetrafficchange")
    assert "%" in alert["annotations"]["summary"]
    drift = [
        a for b in sink.bodies for a in b["alerts"]
        if a["labels"]["alertname"] == "KeeneyeDatasetDrift"
    ]  # fmt: skip
    assert {a["labels"]["model"] for a in drift} == {"churn"}

    # 3. Every dashboard query returns data (checked while the incident's series exist).
    _check_dashboards(live)

    # 4. The incident ends: the SDK-side alerts resolve and Alertmanager says so.
    live["control"].write_text("normal")
    resolved = {"KeeneyeTrafficChange", "KeeneyeNonFinitePredictions", "KeeneyeHighErrorRatio"}
    wait_for("alerts resolved in Prometheus", lambda: not (resolved & prom.firing()), 60)
    wait_for("resolved notifications", lambda: resolved <= sink.alerts("resolved"), 30)
    assert "KeeneyeDatasetDrift" in prom.firing()  # the analysed window is still drifted

    # 5. The next hour is clean: once it completes (the server's clock moves an hour ahead),
    # the gauges show it, the drift alert resolves and Alertmanager says so.
    clean = _events(live["rng"], 200, live["middle"] + 3600)
    r = httpx.post(f"{server}/v1/models/churn/predictions", json={"events": clean}, timeout=30)
    assert r.status_code == 200, r.text
    live["clock_offset"].write_text("3600")
    r = httpx.post(f"{server}/v1/analysis/run", timeout=60)
    assert r.status_code == 200, r.text
    share = 'keeneye_dataset_drift_share{model="churn",version="1",window="hourly"}'
    shown = wait_for(f"{share} < 0.5 scraped", lambda: prom.query(f"{share} < 0.5"), 20)
    assert len(shown) == 1, shown
    assert not prom.query("keeneye_dataset_drift_share >= 0.5")
    wait_for("drift alert resolved in Prometheus", lambda: "KeeneyeDatasetDrift"
             not in prom.firing(), 30)  # fmt: skip
    wait_for("drift resolved notification",
             lambda: "KeeneyeDatasetDrift" in sink.alerts("resolved"), 30)  # fmt: skip


def _check_dashboards(live: dict[str, Any]) -> None:
    prom: Prom = live["prom"]
    options: ExportOptions = live["options"]
    end = time.time()
    empty, failed, checked = [], [], 0
    # "All" in both variables, and a specific version picked (as Grafana substitutes it; the
    # two models' panels differ: only price raises errors, only churn has a baseline)
    picks = [(".*", ".*"), (".*", "1")]
    for board in (fleet_dashboard(options), model_dashboard(options)):
        for template, (model, version) in (
            (t, p) for t in dashboard_expressions(board) for p in picks
        ):
            expr = template.replace("$model", model).replace("$version", version)
            checked += 1
            r = httpx.get(
                f"{prom.url}/api/v1/query_range",
                params={"query": expr, "start": live["started"], "end": end, "step": 1},
                timeout=10,
            )
            if r.status_code != 200:
                failed.append(f"{expr}: {r.text}")
            elif not r.json()["data"]["result"]:
                empty.append(expr)
    assert not failed, failed
    assert not empty, f"dashboard queries without data: {empty}"
    assert checked >= 60  # both dashboards' panels and annotations, with both picks


def test_stack_status_and_down(live: dict[str, Any]) -> None:
    status = stack_status(live["stack"])
    assert {n for n, info in status.items() if info["running"]} == {"prometheus", "alertmanager"}
