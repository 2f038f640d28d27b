"""`keeneye stack up|status|down` starts and stops real Prometheus and Alertmanager processes."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from keeneye.cli import app
from keeneye.integrations.stack import StackError, find_binary, stack_status


def test_stack_up_status_down(prometheus_tools: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    data = tmp_path / "stack"
    up = runner.invoke(
        app,
        ["stack", "up", "--data", str(data), "--prometheus-port", "0", "--alertmanager-port", "0"],
    )
    try:
        assert up.exit_code == 0, up.output
        state = stack_status(data)
        assert {n for n, s in state.items() if s["running"]} == {"prometheus", "alertmanager"}
        for info in state.values():
            assert info["url"].startswith("http://127.0.0.1:")
            assert httpx.get(f"{info['url']}/-/ready", timeout=5).status_code == 200
        config = httpx.get(f"{state['prometheus']['url']}/api/v1/status/config", timeout=5)
        assert "keeneye-models" in config.json()["data"]["yaml"]
        again = runner.invoke(app, ["stack", "up", "--data", str(data)])
        assert again.exit_code == 1 and "already runs" in again.output
        status = runner.invoke(app, ["stack", "status", "--data", str(data)])
        assert status.exit_code == 0 and "prometheus: running" in status.output
    finally:
        down = runner.invoke(app, ["stack", "down", "--data", str(data)])
    assert down.exit_code == 0, down.output
    for info in state.values():
        try:
            os.kill(int(info["pid"]), 0)
            alive = True
        except ProcessLookupError:
            alive = False
        assert not alive, f"{info} still runs"
    assert runner.invoke(app, ["stack", "status", "--data", str(data)]).exit_code == 1


def test_a_missing_binary_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing installed there
    with pytest.raises(
        StackError, match="apt-get install -y --no-install-recommends prometheus-alertmanager"
    ):
        find_binary("alertmanager")
    result = CliRunner().invoke(app, ["stack", "up", "--data", str(tmp_path / "s")])
    assert result.exit_code == 1
    assert "is not installed: apt-get install" in result.output
