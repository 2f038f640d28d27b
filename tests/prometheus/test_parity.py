"""Prometheus parity: the generated alerting rules fire exactly when keeneye's own rules do.

Both engines get the same series. A seeded sequence of analysis results (hourly and daily
windows: drift, quality, performance and bias, small and large windows, with and without
labels or a baseline) goes (1) through keeneye's rules (``keeneye.analysis.rules.evaluate``)
and (2) through the server's exporter into gauge series that real Prometheus's rule engine
(``promtool test rules``) evaluates with the generated rules. At every step the alerts that
promtool must see firing are exactly keeneye's alerts, with the same severities.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from keeneye.analysis.rules import evaluate
from keeneye.config import AlertSettings
from keeneye.integrations.prometheus import ExportOptions, alerting_rules, write_prometheus_files
from keeneye.integrations.prometheus.options import format_duration
from keeneye.integrations.prometheus.rule_tests import GROUP_EVAL_ORDER, RULE_FILES, _Expect, _num
from keeneye.integrations.prometheus.rules import AlertRule
from keeneye.notify.alert import Alert
from keeneye.profile.report import OutliersSection, Report
from keeneye.server.result_metrics import _export, new_families
from keeneye.stats.outliers import ClientBurst
from keeneye.store.records import StoredResult

STEP = 600  # seconds between analysis updates: longer than Prometheus's 5-minute lookback,
# so a result that is gone is gone for both engines
STEPS = 36
SERVER = {"job": "keeneye", "instance": "keeneye:8765"}
#: keeneye rule → the Prometheus alert that is its twin
TWINS = {
    "dataset_drift": "KeeneyeDatasetDrift",
    "feature_drift": "KeeneyeFeatureDrift",
    "missing_values": "KeeneyeMissingValues",
    "out_of_range": "KeeneyeOutOfRange",
    "performance": "KeeneyePerformance",
    "prediction_bias": "KeeneyePredictionBias",
    "outlier_share": "KeeneyeOutlierShare",
    "probe_burst": "KeeneyeProbeBurst",
}
T0 = datetime(2026, 3, 2, tzinfo=timezone.utc)


def _settings() -> AlertSettings:
    return AlertSettings(drift_features=["*"], performance_min={"accuracy": 0.8})


def _results(rng: np.random.Generator, step: int) -> list[StoredResult]:
    out: list[StoredResult] = []
    for window in ("hourly", "daily"):
        start = T0 + timedelta(hours=step) if window == "hourly" else T0 + timedelta(days=step)

        def result(
            kind: str, payload: dict[str, Any], w: str = window, s: datetime = start
        ) -> StoredResult:
            e = s + (timedelta(hours=1) if w == "hourly" else timedelta(days=1))
            return StoredResult("churn", "1", kind, s, e, e, {"window": w, **payload})

        events = int(rng.choice([12, 400, 5000]))
        flags = {f: bool(rng.uniform() < 0.3) for f in ("age", "plan")}
        features = [
            {
                "feature": f,
                "method": "ks" if f == "age" else "chi_square",
                "statistic": 0.2,
                "p_value": 0.001 if d else 0.4,
                "threshold": 0.01,
                "decided_by": "p_value",
                "drifted": d,
                "drifted_adjusted": d,
                "effect_size": 0.3 if d else 0.02,
                "effect_method": "wasserstein" if f == "age" else "jensen_shannon",
                "kind": "numeric" if f == "age" else "categorical",
                "reason": None,
                "n_reference": 1000,
                "n_current": events,
            }
            for f, d in flags.items()
        ]
        pred_drift = bool(rng.uniform() < 0.2)
        prediction = {**features[0], "feature": "prediction", "drifted": pred_drift}
        prediction["drifted_adjusted"] = pred_drift
        drift = Report.from_payload(
            {
                "window": window,
                "events": events,
                "n_current": events,
                "features": features,
                "drift_share": sum(flags.values()) / 2,
                "prediction": prediction,
            },
            "drift",
        )
        # the outlier section the drift job adds (docs/privacy.md): a share alert, a probe burst
        outliers = OutliersSection(
            events=events,
            outliers=events // 10,
            alert=bool(rng.uniform() < 0.3),
            bursts=(
                (ClientBurst("h:" + "0" * 32, events, events // 10, 0, 1e-9, "outliers"),)
                if rng.uniform() < 0.2
                else ()
            ),
        )
        out.append(result("drift", replace(drift, outliers=outliers).to_payload()))
        baseline = None if rng.uniform() < 0.3 else 0.05
        out.append(
            result(
                "summary",
                {
                    "events": events,
                    "features": {
                        "age": {
                            "missing_ratio": float(rng.choice([0.0, 0.1, 0.3])),
                            "baseline_missing_ratio": baseline,
                            "out_of_range_ratio": float(rng.choice([0.0, 0.05, 0.25])),
                        },
                    },
                },
            )
        )
        labels = int(rng.choice([0, 20, 200, 2000]))
        if labels:
            fp = int(rng.integers(0, labels // 4 + 1))
            fn = int(rng.integers(0, labels // 4 + 1))
            tp = (labels - fp - fn) // 2
            tn = labels - fp - fn - tp
            bias = (fp - fn) / labels
            out.append(
                result(
                    "performance",
                    {
                        "labels": labels,
                        "label_coverage": labels / max(events, labels),
                        "performance": {
                            "task": "classification",
                            "n": labels,
                            "metrics": {"accuracy": (tp + tn) / labels},
                            "confusion_matrix": {
                                "labels": ["0", "1"],
                                "matrix": [[tn, fp], [fn, tp]],
                            },
                        },
                        "bias": {"subject": "1", "value": bias, "normalized": bias},
                    },
                )
            )
    return out


def _samples(results: list[StoredResult]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    families = new_families()
    for r in results:
        _export(r, families)
    out = {}
    for name, family in families.items():
        for sample in family.samples:
            labels = tuple(sorted({**sample.labels, **SERVER}.items()))
            out[(name, labels)] = float(sample.value)
    return out


def _prometheus_twin(
    alert: Alert, rules: Mapping[str, AlertRule]
) -> tuple[AlertRule, dict[str, str], float]:
    """The Prometheus alert that must fire for keeneye's ``alert``: its rule, labels, value."""
    rule = rules[TWINS[alert.rule]]
    window = str(alert.details["window"])
    base = {"model": alert.model, "version": alert.version, "window": window}
    if alert.rule == "dataset_drift":
        return rule, {**base, **SERVER}, float(alert.value or 0)
    if alert.rule == "feature_drift":
        feature = "__prediction__" if alert.subject == "__prediction__" else alert.subject
        labels = {**base, "feature": feature, "method": str(alert.details["method"]), **SERVER}
        return rule, labels, 1.0
    if alert.rule == "missing_values":
        value = float(alert.value or 0) - float(alert.details["baseline"])
        return rule, {**base, "feature": alert.subject}, value
    if alert.rule == "out_of_range":
        return rule, {**base, "feature": alert.subject, **SERVER}, float(alert.value or 0)
    if alert.rule in ("outlier_share", "probe_burst"):
        # the 1/0 decision, and the number of flagged clients (one per window here)
        return rule, {**base, **SERVER}, 1.0
    if alert.rule == "performance":
        return rule, {**base, "metric": alert.subject, **SERVER}, float(alert.value or 0)
    return rule, {**base, **SERVER}, float(alert.value or 0)  # prediction_bias


def _parity_file(settings: AlertSettings, options: ExportOptions) -> tuple[dict[str, Any], int]:
    rng = np.random.default_rng(2026)
    rules = {r.alert: r for r in alerting_rules(options)}
    series: dict[tuple[str, tuple[tuple[str, str], ...]], list[float | None]] = {}
    tests: list[dict[str, Any]] = []
    fired = 0
    for step in range(STEPS):
        results = _results(rng, step)
        for key, value in _samples(results).items():
            series.setdefault(key, [None] * STEPS)[step] = value
        alerts = [a for a in evaluate(results, settings) if a.rule in TWINS]
        expected: dict[str, list[_Expect]] = {name: [] for name in TWINS.values()}
        for alert in alerts:
            rule, labels, value = _prometheus_twin(alert, rules)
            assert alert.severity.value == rule.severity, (alert.rule, rule.severity)
            expected[rule.alert].append(_Expect(rule, labels, value))
        fired += len(alerts)
        for name, wanted in expected.items():
            tests.append(
                {
                    "eval_time": format_duration(step * STEP),
                    "alertname": name,
                    "exp_alerts": [e.to_dict(options.runbook_base_url) for e in wanted],
                }
            )
    input_series = [
        {
            "series": name + "{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}",
            "values": " ".join("_" if v is None else _num(v) for v in values),
        }
        for (name, labels), values in sorted(series.items())
    ]
    doc = {
        "rule_files": RULE_FILES,
        "evaluation_interval": format_duration(STEP),
        "group_eval_order": GROUP_EVAL_ORDER,
        "tests": [
            {
                "name": "the same analysis results fire the same alerts in both engines",
                "interval": format_duration(STEP),
                "input_series": input_series,
                "alert_rule_test": tests,
            }
        ],
    }
    return doc, fired


def _run(
    tools: dict[str, str], rules_dir: Path, doc: dict[str, Any]
) -> subprocess.CompletedProcess[str]:
    (rules_dir / "parity.test.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return subprocess.run(
        [tools["promtool"], "test", "rules", "parity.test.yml"],
        cwd=rules_dir,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_prometheus_fires_what_keeneye_fires(
    prometheus_tools: dict[str, str], tmp_path: Path
) -> None:
    settings = _settings()
    options = ExportOptions(thresholds=settings)
    write_prometheus_files(tmp_path, options)
    doc, fired = _parity_file(settings, options)
    assert fired >= 20  # the scenario exercises the rules, not only quiet windows
    quiet_hourly = [
        t for t in doc["tests"][0]["alert_rule_test"]
        if t["alertname"] == "KeeneyeFeatureDrift"
        and any(a["exp_labels"]["window"] == "hourly" for a in t["exp_alerts"])
    ]  # fmt: skip
    assert not quiet_hourly  # keeneye alerts on drift in daily windows only
    run = _run(prometheus_tools, tmp_path / "rules", doc)
    assert run.returncode == 0, run.stdout + run.stderr


def test_parity_catches_a_rule_that_disagrees(
    prometheus_tools: dict[str, str], tmp_path: Path
) -> None:
    """Drop the window filter of the drift rule (the old rules alerted on hourly drift):
    promtool now sees alerts keeneye does not raise."""
    settings = _settings()
    options = ExportOptions(thresholds=settings)
    write_prometheus_files(tmp_path, options)
    rules_file = tmp_path / "rules" / "keeneye-alerts.rules.yml"
    text = rules_file.read_text()
    assert 'keeneye_feature_drifted{window=~"daily"}' in text
    rules_file.write_text(
        text.replace('keeneye_feature_drifted{window=~"daily"}', "keeneye_feature_drifted")
    )
    doc, _ = _parity_file(settings, options)
    run = _run(prometheus_tools, tmp_path / "rules", doc)
    assert run.returncode == 1
    assert "KeeneyeFeatureDrift" in run.stdout + run.stderr
