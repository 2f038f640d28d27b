"""The generated rules are valid (promtool check rules) and do what their unit tests say
(promtool test rules), for the default thresholds and for a customised keeneye.yaml."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from keeneye.cli import app
from keeneye.config import AlertSettings
from keeneye.errors import ConfigError
from keeneye.integrations.prometheus import ExportOptions, alerting_rules, write_prometheus_files
from keeneye.integrations.prometheus.options import duration_seconds
from keeneye.integrations.prometheus.templates import render


def _promtool(tools: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tools["promtool"], *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def _check_and_test(tools: dict[str, str], out: Path) -> None:
    rules = out / "rules"
    check = _promtool(
        tools, "check", "rules", "keeneye-recording.rules.yml", "keeneye-alerts.rules.yml",
        cwd=rules,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    config = _promtool(tools, "check", "config", "prometheus.yml", cwd=out)
    assert config.returncode == 0, config.stdout + config.stderr
    for test_file in ("keeneye-alerts.test.yml", "keeneye-traffic.test.yml"):
        run = _promtool(tools, "test", "rules", test_file, cwd=rules)
        assert run.returncode == 0, run.stdout + run.stderr


def test_default_rules_pass_promtool(prometheus_tools: dict[str, str], tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["export", "prometheus", "--out", str(tmp_path), "--target", "127.0.0.1:8000",
         "--webhook-url", "http://127.0.0.1:5001/hook"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    _check_and_test(prometheus_tools, tmp_path)
    alerts = yaml.safe_load((tmp_path / "rules" / "keeneye-alerts.rules.yml").read_text())
    names = {r["alert"] for r in alerts["groups"][0]["rules"]}
    assert {
        "KeeneyeTrafficChange", "KeeneyeLatencySLO", "KeeneyeHighErrorRatio",
        "KeeneyeNonFinitePredictions", "KeeneyeDatasetDrift", "KeeneyeNoPredictions",
        "KeeneyeAnalysisStale", "KeeneyeTargetDown",
    } <= names  # fmt: skip
    for rule in alerts["groups"][0]["rules"]:
        assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}
        assert rule["labels"]["source"] == "keeneye"


def test_customised_thresholds_pass_promtool(
    prometheus_tools: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "keeneye.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "alerts": {
                    "traffic_change": 0.3,
                    "drift_share": 0.25,
                    "drift_features": ["age", "plan.v2"],
                    "performance_min": {"accuracy": 0.8},
                    "performance_max": {"rmse": 2.5},
                    "prediction_bias": 0.2,
                },
                "analysis": {"weekend_days": [4, 5]},  # Friday and Saturday
            }
        )
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["export", "prometheus", "--out", str(out), "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    _check_and_test(prometheus_tools, out)
    text = (out / "rules" / "keeneye-alerts.rules.yml").read_text()
    assert 'feature=~"age|plan\\\\.v2"' in text
    assert 'keeneye_model_performance{metric="accuracy"} < 0.8' in text
    assert "> 0.3 or" in text


def test_a_wrong_threshold_fails_the_unit_tests(
    prometheus_tools: dict[str, str], tmp_path: Path
) -> None:
    """The promtool tests can fail: rules that drift from the tests' thresholds are caught."""
    write_prometheus_files(tmp_path, ExportOptions())
    rules = tmp_path / "rules" / "keeneye-alerts.rules.yml"
    text = rules.read_text()
    assert 'keeneye_dataset_drift_share{window=~"daily"} >= 0.5' in text
    rules.write_text(
        text.replace(
            'keeneye_dataset_drift_share{window=~"daily"} >= 0.5',
            'keeneye_dataset_drift_share{window=~"daily"} >= 0.7',
        )
    )
    run = _promtool(prometheus_tools, "test", "rules", "keeneye-alerts.test.yml", cwd=rules.parent)
    assert run.returncode == 1
    assert "KeeneyeDatasetDrift" in run.stdout + run.stderr


def test_rules_follow_keeneye_thresholds() -> None:
    opts = ExportOptions(thresholds=AlertSettings(traffic_change=0.25, nonfinite_predictions=3))
    exprs = {r.alert + r.labels.get("compared_to", ""): r.expr for r in alerting_rules(opts)}
    assert "> 0.25 or" in exprs["KeeneyeTrafficChangeweek"]
    assert exprs["KeeneyeNonFinitePredictions"].endswith("> 3.0")


def test_bad_options_name_the_field_and_the_fix() -> None:
    with pytest.raises(ConfigError, match="'5 minutes' is not a Prometheus duration"):
        duration_seconds("5 minutes")
    with pytest.raises(ValueError, match="rate_window '15s' must cover at least two scrapes"):
        ExportOptions(scrape_interval="15s", rate_window="15s")
    with pytest.raises(ValueError, match="target 'localhost' must be host:port"):
        ExportOptions(model_targets=["localhost"])
    result = CliRunner().invoke(
        app, ["export", "prometheus", "--out", "/tmp/unused", "--scrape-interval", "1 min"]
    )
    assert result.exit_code == 2
    assert "scrape_interval='1 min': duration '1 min' is not a Prometheus duration" in result.output
    result = CliRunner().invoke(
        app, ["export", "prometheus", "--out", "/tmp/unused", "--target", "localhost"]
    )
    assert result.exit_code == 2
    assert "target 'localhost' must be host:port" in result.output


def test_template_rendering_matches_prometheus_formats() -> None:
    # Go's humanize* as Prometheus 2.x documents them
    assert render("{{ $value | humanize }}", {}, 1234567.0) == "1.235M"
    assert render("{{ $value | humanize }}", {}, 0.0123) == "12.3m"
    assert render("{{ $value | humanizeDuration }}", {}, 90061.0) == "1d 1h 1m 1s"
    assert render("{{ $value | humanizePercentage }}", {}, 0.0909090909) == "9.091%"
    with pytest.raises(ValueError, match="not supported"):
        render("{{ $value }}", {}, 1.0)
