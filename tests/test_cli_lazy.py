"""The lazily imported CLI commands: the listed help is each command's own, and they run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keeneye.cli import LAZY_COMMANDS, app, load_module_commands


@pytest.mark.parametrize("name", sorted(LAZY_COMMANDS))
def test_listed_help_is_the_first_paragraph_of_the_docstring(name: str) -> None:
    module, listed = LAZY_COMMANDS[name]
    command = load_module_commands(module)[name]
    assert listed == (command.help or "").strip().split("\n\n")[0].strip()


def test_every_command_of_the_lazy_modules_is_listed() -> None:
    for module in {m for m, _ in LAZY_COMMANDS.values()}:
        for name in load_module_commands(module):
            assert LAZY_COMMANDS.get(name, ("", ""))[0] == module, name


def test_help_imports_no_command_module() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from keeneye.cli import app\n"
        "result = CliRunner().invoke(app, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "heavy = [m for m in ('keeneye.cli.compare_cmd', 'keeneye.analysis', 'scipy', 'httpx',"
        " 'pandas', 'numba', 'keeneye.sdk') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_lazy_command_runs_and_shows_its_own_help() -> None:
    result = CliRunner().invoke(app, ["compare", "--help"])
    assert result.exit_code == 0, result.output
    assert "Compare two tables column by column" in result.output
    listing = CliRunner().invoke(app, ["--help"])
    for name in LAZY_COMMANDS:
        assert name in listing.output


def test_a_small_compare_imports_neither_the_sdk_nor_scipy(tmp_path: Path) -> None:
    reference, current = tmp_path / "reference.csv", tmp_path / "current.csv"
    reference.write_text("age,city\n" + "".join(f"{20 + i % 40},c{i % 3}\n" for i in range(200)))
    current.write_text("age,city\n" + "".join(f"{25 + i % 40},c{i % 4}\n" for i in range(200)))
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from keeneye.cli import app\n"
        f"result = CliRunner().invoke(app, ['compare', {str(reference)!r}, {str(current)!r}])\n"
        "assert result.exit_code in (0, 1), result.output\n"
        "heavy = [m for m in ('keeneye.sdk', 'httpx', 'prometheus_client', 'scipy', 'numba',"
        " 'pandas', 'keeneye.analysis', 'keeneye.store') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
