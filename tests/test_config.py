"""keeneye.yaml and KEENEYE_* variables: every key at every level is validated, an unknown key
is named with its path and the closest valid name, in one `error:` line with exit 2; the JSON
Schema of `keeneye config schema` accepts the documentation's example configs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

from keeneye.cli import app
from keeneye.config import Settings, _nested_model, json_schema, load_settings
from keeneye.errors import ConfigError

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _models(model: type[BaseModel]) -> list[type[BaseModel]]:
    out = [model]
    for field in model.model_fields.values():
        nested = _nested_model(field.annotation)
        if nested is not None:
            out += _models(nested)
    return out


def test_every_settings_model_forbids_unknown_keys() -> None:
    for model in _models(Settings):
        assert model.model_config.get("extra") == "forbid", model.__name__


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("servr:\n  port: 1\n", "unknown key servr (did you mean server?)"),
        ("server:\n  prot: 1\n", "unknown key server.prot (did you mean server.port?)"),
        ("notify:\n  url: [json://x]\n", "unknown key notify.url (did you mean notify.urls?)"),
        (
            "analysis:\n  windos: [daily]\n",
            "unknown key analysis.windos (did you mean analysis.windows?)",
        ),
        (
            "analysis:\n  alert_budget:\n    false_alert: 2\n",
            "unknown key analysis.alert_budget.false_alert "
            "(did you mean analysis.alert_budget.false_alerts?)",
        ),
        (
            "alerts:\n  performance_min:\n    acuracy: 0.8\n",
            "unknown key alerts.performance_min.acuracy "
            "(did you mean alerts.performance_min.accuracy?",
        ),
    ],
)
def test_a_typo_at_each_level_is_one_line_naming_the_key_path(
    tmp_path: Path, yaml_text: str, message: str
) -> None:
    config = tmp_path / "keeneye.yaml"
    config.write_text(yaml_text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(config)
    for argv in (["config", "check", str(config)], ["server", "--config", str(config)]):
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.output
        assert message in lines[0]


def test_environment_variables_get_the_same_messages(tmp_path: Path) -> None:
    runner = CliRunner()
    typo = runner.invoke(app, ["config", "check"], env={"KEENEYE_ANALYSIS__WINDOS": '["daily"]'})
    assert typo.exit_code == 2
    assert typo.output.strip() == (
        "error: invalid keeneye settings: unknown key analysis.windos "
        "(from KEENEYE_ANALYSIS__WINDOS) (did you mean analysis.windows?)"
    )
    not_json = runner.invoke(app, ["config", "check"], env={"KEENEYE_NOTIFY__URLS": "json://x"})
    assert not_json.exit_code == 2 and len(not_json.output.strip().splitlines()) == 1
    assert "notify.urls: Input should be a valid list" in not_json.output
    assert "KEENEYE_NOTIFY__URLS; lists and mappings there are JSON" in not_json.output
    assert "Traceback" not in not_json.output and "SettingsError" not in not_json.output
    bad_url = runner.invoke(app, ["config", "check"], env={"KEENEYE_NOTIFY__URLS": '["nope://x"]'})
    assert bad_url.exit_code == 2
    assert bad_url.output.startswith("error: notify.urls.0: 'nope://****' is not an apprise")
    ok = runner.invoke(
        app,
        ["config", "check"],
        env={"KEENEYE_NOTIFY__URLS": '["json://localhost/x"]', "KEENEYE_SERVER__PORT": "9000"},
    )
    assert ok.exit_code == 0, ok.output
    assert load_settings(server={"port": 1}).server.port == 1


def test_explicit_arguments_beat_the_environment_which_beats_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "keeneye.yaml"
    config.write_text("server:\n  port: 1\n  host: 0.0.0.0\nanalysis:\n  windows: [weekly]\n")
    monkeypatch.setenv("KEENEYE_SERVER__PORT", "2")
    settings = load_settings(config)
    assert (settings.server.port, settings.server.host) == (2, "0.0.0.0")
    assert settings.analysis.windows == ["weekly"]
    assert load_settings(config, server={"port": 3}).server.port == 3


def _doc_configs() -> list[tuple[str, str]]:
    out = []
    for page in sorted(DOCS.glob("*.md")):
        for block in re.findall(r"```yaml\n(.*?)```", page.read_text(), flags=re.S):
            if block.startswith("# keeneye.yaml"):
                out.append((page.name, block))
    return out


def test_the_docs_hold_example_configs() -> None:
    assert {name for name, _ in _doc_configs()} >= {"config.md", "notifications.md"}


@pytest.mark.parametrize(("page", "block"), _doc_configs())
def test_the_json_schema_validates_the_docs_example_configs(
    tmp_path: Path, page: str, block: str
) -> None:
    schema = json.loads(CliRunner().invoke(app, ["config", "schema"]).output)
    assert schema == json.loads(json.dumps(json_schema()))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load(block), schema, cls=jsonschema.Draft202012Validator)
    config = tmp_path / "keeneye.yaml"
    config.write_text(block)
    load_settings(config)  # and keeneye itself takes it


def test_the_json_schema_refuses_what_keeneye_refuses() -> None:
    schema = json_schema()
    for bad in (
        {"analysis": {"windos": ["daily"]}},
        {"notify": {"url": ["json://x"]}},
        {"alerts": {"performance_min": {"acuracy": 0.8}}},
        {"server": {"port": 70000}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema, cls=jsonschema.Draft202012Validator)
