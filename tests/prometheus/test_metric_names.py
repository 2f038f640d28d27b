"""The names the generated rules and dashboards use are the names keeneye exposes."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from keeneye.integrations.prometheus import metrics as m
from keeneye.sdk import Monitor
from keeneye.sdk.metrics import ModelMetrics
from keeneye.server.result_metrics import GAUGES, LAST_RUN


def test_sdk_names() -> None:
    registry = CollectorRegistry()
    # a real Monitor (nobody listens on port 9: its events are dropped and counted)
    with Monitor("churn", "3", url="http://127.0.0.1:9", registry=registry, max_retries=0) as mon:
        mon.log({"age": 3}, "yes", probabilities={"no": 0.3, "yes": 0.7}, latency_seconds=0.01)
        mon.flush(timeout=5)
    mm = ModelMetrics(registry, "churn", "3")
    mm.predictions.inc()
    mm.latency.observe(0.01)
    mm.value.observe(1.0)
    mm.confidence.observe(0.7)
    mm.nonfinite.inc()
    mm.count_class("yes")
    mm.count_error(ValueError("x"))
    mm.count_dropped("queue_full", 1)
    mm.sent.inc()
    text = generate_latest(registry).decode()
    exposed = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line[:1] != "#"}
    sdk = [
        m.PREDICTIONS, m.LATENCY_BUCKET, m.ERRORS, m.PREDICTION_VALUE_BUCKET, m.PREDICTED_CLASS,
        m.CONFIDENCE_BUCKET, m.NONFINITE, m.MODEL_INFO, m.SDK_QUEUE, m.SDK_SENT, m.SDK_DROPPED,
    ]  # fmt: skip
    assert set(sdk) <= exposed, set(sdk) - exposed


def test_server_names() -> None:
    server = {
        m.FEATURE_DRIFT_SCORE, m.FEATURE_DRIFT_PVALUE, m.FEATURE_DRIFTED, m.DATASET_DRIFT_SHARE,
        m.FEATURE_MISSING, m.FEATURE_OUT_OF_RANGE, m.TRAFFIC_CHANGE, m.PERFORMANCE,
        m.PREDICTION_BIAS, m.LABEL_COVERAGE, m.OUTLIER_SHARE_ALERT, m.PROBE_BURST_CLIENTS,
    }  # fmt: skip
    assert server <= set(GAUGES), server - set(GAUGES)
    assert m.ANALYSIS_LAST_RUN == LAST_RUN
