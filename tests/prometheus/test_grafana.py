"""The generated Grafana dashboards and provisioning files (the live test runs every query
against a real Prometheus; here: structure, and every expression parses as PromQL)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from keeneye.cli import app
from keeneye.integrations.grafana import dashboard_expressions, fleet_dashboard, model_dashboard
from keeneye.integrations.grafana.dashboards import DATASOURCE_UID
from keeneye.integrations.prometheus import ExportOptions, RecordedNames


def _panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in board["panels"] if p["type"] != "row"]


@pytest.mark.parametrize("build", [fleet_dashboard, model_dashboard])
def test_dashboard_structure(build: Any) -> None:
    board = build(ExportOptions())
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in _panels(board):
        assert panel["datasource"]["uid"] == DATASOURCE_UID
        assert panel["targets"], panel["title"]
        assert [t["refId"] for t in panel["targets"]] == [
            chr(65 + i) for i in range(len(panel["targets"]))
        ]
        assert panel["gridPos"]["x"] >= 0 and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24


def test_model_dashboard_has_variables_overlays_heatmap_and_annotations() -> None:
    opts = ExportOptions()
    board = model_dashboard(opts)
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert set(variables) == {"model", "version"}
    assert all(v["includeAll"] and v["allValue"] == ".*" for v in variables.values())
    traffic = next(p for p in _panels(board) if p["title"].startswith("Predictions per second"))
    names = RecordedNames.of(opts)
    assert [t["legendFormat"] for t in traffic["targets"]] == ["now", "a day ago", "a week ago"]
    assert names.traffic_1d in traffic["targets"][1]["expr"]
    assert names.traffic_1w in traffic["targets"][2]["expr"]
    drift = next(p for p in _panels(board) if p["title"] == "Drift score per feature")
    assert drift["type"] == "heatmap"
    assert "keeneye_model_info" in board["annotations"]["list"][0]["expr"]


def test_every_dashboard_expression_is_valid_promql(
    prometheus_tools: dict[str, str], tmp_path: Path
) -> None:
    exprs = [
        e.replace("$model", ".*").replace("$version", ".*")
        for board in (fleet_dashboard(ExportOptions()), model_dashboard(ExportOptions()))
        for e in dashboard_expressions(board)
    ]
    assert len(exprs) >= 30
    rules = {
        "groups": [
            {"name": "dashboards", "rules": [
                {"record": f"dashboard:query{i}", "expr": e} for i, e in enumerate(exprs)
            ]}
        ]
    }  # fmt: skip
    (tmp_path / "queries.yml").write_text(yaml.safe_dump(rules))
    run = subprocess.run(
        [prometheus_tools["promtool"], "check", "rules", "queries.yml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


def test_export_grafana_writes_provisioning(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["export", "grafana", "--out", str(tmp_path), "--prometheus-url", "http://prom:9090",
         "--dashboards-path", "/etc/dashboards/keeneye"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    ds = yaml.safe_load((tmp_path / "provisioning/datasources/keeneye.yml").read_text())
    assert ds["datasources"][0]["url"] == "http://prom:9090"
    assert ds["datasources"][0]["uid"] == DATASOURCE_UID
    provider = yaml.safe_load((tmp_path / "provisioning/dashboards/keeneye.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/etc/dashboards/keeneye"
    for name in ("keeneye-fleet", "keeneye-model"):
        board = json.loads((tmp_path / f"dashboards/{name}.json").read_text())
        assert board["uid"] == name
