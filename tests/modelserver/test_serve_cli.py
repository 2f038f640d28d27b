"""``keeneye serve-model`` refuses what it cannot serve safely, before binding a port."""

from __future__ import annotations

from pathlib import Path

import joblib
from tests.modelserver.models import fit, training_frame
from typer.testing import CliRunner

from keeneye.cli import app


def test_pickle_without_trust_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    joblib.dump(fit(training_frame(seed=1)), path)
    result = CliRunner().invoke(app, ["serve-model", str(path), "--port", "0"])
    assert result.exit_code == 2  # an input the user can fix
    assert "--trust-pickle" in result.output
    assert "skops" in result.output


def test_unknown_log_mode_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["serve-model", str(tmp_path / "m.skops"), "--log-preprocessed", "compressed"]
    )
    assert result.exit_code == 2
    assert "must be one of raw, preprocessed, both" in result.output


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(app, ["serve-model", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in (
        "--host", "--port", "--keeneye-url", "--keeneye-token", "--name", "--trust-pickle",
        "--log-preprocessed", "--alias-poll-seconds",
    ):  # fmt: skip
        assert option in result.output
