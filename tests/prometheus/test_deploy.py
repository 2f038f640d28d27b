"""deploy/ holds the generated files as an example: they must be what the generator writes."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from keeneye.cli import app

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
#: The commands that produced deploy/ (docs/prometheus.md shows them too).
PROMETHEUS_ARGS = [
    "--target",
    "127.0.0.1:8000",
    "--webhook-url",
    "http://127.0.0.1:5001/keeneye-alerts",
]


def test_deploy_matches_the_generator(tmp_path: Path) -> None:
    config = tmp_path / "keeneye.yaml"
    config.write_text("{}\n")  # defaults, whatever keeneye.yaml the working directory holds
    out = tmp_path / "deploy"
    runner = CliRunner()
    result = runner.invoke(
        app, ["export", "prometheus", "--out", str(out), "--config", str(config), *PROMETHEUS_ARGS]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["export", "grafana", "--out", str(out / "grafana"), "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    generated = {p.relative_to(out): p.read_text() for p in out.rglob("*") if p.is_file()}
    committed = {p.relative_to(DEPLOY): p.read_text() for p in DEPLOY.rglob("*") if p.is_file()}
    stale = sorted(str(name) for name in generated if committed.get(name) != generated[name])
    assert not stale, (
        f"deploy/ is out of date for {stale}: regenerate with `keeneye export prometheus "
        f"--out deploy {' '.join(PROMETHEUS_ARGS)}` and "
        "`keeneye export grafana --out deploy/grafana`"
    )
