"""Every command's help shows real metavars and defaults — no Python type placeholders
(``<str>``, ``<bool>``) and no ``{argument}`` braces — and usage is checked before any work:
exit codes are 0 ok, 1 a finding, 2 a usage or input error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keeneye.cli import LAZY_COMMANDS, app, load_module_commands

PLACEHOLDER = re.compile(r"<(str|bool|int|float|path|list\[[a-z]+\])>|\{[a-z_]+\}")


def _command_paths() -> list[list[str]]:
    paths: list[list[str]] = [[]]
    for name, (module, _) in LAZY_COMMANDS.items():
        command = load_module_commands(module)[name]
        subs = getattr(command, "commands", None)
        paths.append([name])
        paths += [[name, sub] for sub in sorted(subs or {})]
    return paths


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "keeneye")
def test_help_shows_real_metavars(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    found = PLACEHOLDER.findall(result.output)
    assert not found, f"keeneye {' '.join(path)} --help shows {found}:\n{result.output}"


def test_server_help_shows_the_port_default() -> None:
    result = CliRunner().invoke(app, ["server", "--help"], env={"COLUMNS": "200"})
    assert "[default: (8765 or server.port)]" in result.output
    serve = CliRunner().invoke(app, ["serve-model", "--help"], env={"COLUMNS": "200"})
    assert "Usage: keeneye serve-model [OPTIONS] MODEL_URI" in serve.output


def test_usage_is_checked_before_any_work(tmp_path: Path) -> None:
    store = tmp_path / "k.duckdb"
    result = CliRunner().invoke(
        app, ["analyze", "--since", "yesterday", "--store", str(store), "--create"]
    )
    assert result.exit_code == 2
    assert "'yesterday' is not an ISO 8601 time" in result.output
    assert "analyze" not in result.output.split("Usage:")[0]  # no progress bar drawn first
    assert not store.exists()  # nor the store created


def test_a_missing_input_file_exits_2_everywhere(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.parquet")
    runner = CliRunner()
    for argv in (
        ["compare", missing, missing],
        ["report", missing, missing, "-o", str(tmp_path / "r.html")],
        ["baseline", "register", "m", "1", missing, "--store", str(tmp_path / "k.duckdb"),
         "--create"],
        ["alerts", "--store", str(tmp_path / "none.duckdb")],
        ["config", "check", str(tmp_path / "none.yaml")],
    ):  # fmt: skip
        result = runner.invoke(app, argv)
        assert result.exit_code == 2, (argv, result.output)
        assert result.output.strip().splitlines()[-1].startswith("error: "), result.output
