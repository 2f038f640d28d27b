"""``keeneye stack up --opensearch``: a real node from Maven Central artifacts, status, down."""

from __future__ import annotations

from pathlib import Path

import httpx
from typer.testing import CliRunner

from keeneye.cli import app
from keeneye.integrations.opensearch_node import is_opensearch


def test_stack_up_status_down_with_opensearch(tmp_path: Path) -> None:
    runner = CliRunner()
    folder = tmp_path / "stack"
    up = runner.invoke(
        app, ["stack", "up", "--opensearch", "--opensearch-port", "0", "--dir", str(folder)]
    )
    try:
        assert up.exit_code == 0, up.output
        status = runner.invoke(app, ["stack", "status", "--dir", str(folder)])
        assert status.exit_code == 0, status.output
        line = next(li for li in status.output.splitlines() if li.startswith("opensearch:"))
        assert "running" in line and "not running" not in line
        url = line.rsplit(", ", 1)[1].rstrip(")")
        info = httpx.get(url, timeout=10).json()
        assert info["version"]["distribution"] == "opensearch"
        assert info["version"]["number"].startswith("2.19.")
        pid = int(line.split("pid ")[1].split(",")[0])
        assert is_opensearch(pid)
    finally:
        down = runner.invoke(app, ["stack", "down", "--dir", str(folder)])
    assert down.exit_code == 0, down.output
    assert "opensearch: stopped" in down.output
    assert not is_opensearch(pid)
    assert runner.invoke(app, ["stack", "status", "--dir", str(folder)]).exit_code == 1
