"""Defect 6: config errors name the key and the kind of problem, never a secret's value;
tokens can come from a file or the environment instead of the command line."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tests.hardening.conftest import keeneye_server
from typer.testing import CliRunner

from keeneye.cli import app

SECRET = "hunter2-s3cr3t"


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [
        (f'notify:\n  urls: "mailtos://user:{SECRET}@mail.example.com"\n', "notify.urls"),
        ("server:\n  token: 987654321\n", "server.token"),
        (f"notify:\n  urls:\n    - 12\n    - {{x: {SECRET}}}\n", "notify.urls.1"),
        (f'server:\n  token: "{SECRET}\n  port: [\n', "line"),  # YAML syntax error
    ],
)
def test_config_errors_never_print_secret_values(tmp_path: Path, yaml_text: str, key: str) -> None:
    config = tmp_path / "keeneye.yaml"
    config.write_text(yaml_text)
    result = CliRunner().invoke(app, ["server", "--config", str(config), "--port", "0"])
    assert result.exit_code == 2, result.output
    assert key in result.output
    for secret in (SECRET, "987654321"):
        assert secret not in result.output


def test_environment_secret_errors_are_redacted(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["server", "--port", "0"],
        env={"KEENEYE_NOTIFY__URLS": f"slack://{SECRET}"},  # not a JSON list
    )
    assert result.exit_code == 2
    assert SECRET not in result.output and "notify" in result.output


def test_token_file_problems_name_the_file_not_the_content(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    result = CliRunner().invoke(app, ["server", "--token-file", str(empty), "--port", "0"])
    assert result.exit_code == 2 and "is empty" in result.output
    missing = CliRunner().invoke(app, ["server", "--token-file", str(tmp_path / "no")])
    assert missing.exit_code == 2 and "cannot be read" in missing.output


@pytest.mark.e2e
def test_token_from_a_file_protects_the_server(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(SECRET + "\n")
    args = ("--store", str(tmp_path / "k.duckdb"), "--token-file", str(token_file))
    with keeneye_server(*args, cwd=tmp_path) as (url, _):
        assert httpx.get(f"{url}/v1/models").status_code == 401
        headers = {"Authorization": f"Bearer {SECRET}"}
        assert httpx.get(f"{url}/v1/models", headers=headers).status_code == 200
