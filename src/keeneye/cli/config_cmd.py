"""``keeneye config check`` (validate a keeneye.yaml and the environment) and ``keeneye config
schema`` (the JSON Schema of keeneye.yaml, for editors)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

config_app = typer.Typer(help="Check keeneye.yaml and KEENEYE_* variables; print its JSON Schema.")


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")


@config_app.command("check")
def check(
    file: Path | None = typer.Argument(
        None,
        metavar="[FILE]",
        help="keeneye.yaml to check (default: $KEENEYE_CONFIG, else ./keeneye.yaml if present).",
        show_default=False,
    ),
) -> None:
    """Validate the settings (file, then KEENEYE_* variables) as `keeneye server` reads them:
    every key at every level, and every notify URL. Exit 0 when valid, 2 with one `error:`
    line otherwise."""
    from keeneye.config import load_settings
    from keeneye.errors import ConfigError

    try:
        settings = load_settings(file)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    windows = ", ".join(settings.analysis.windows)
    where = str(file) if file is not None else "defaults and environment"
    typer.echo(
        f"ok: {where} is valid (store {settings.server.store}, windows {windows}, "
        f"{len(settings.notify.urls)} notify URL(s))"
    )


@config_app.command("schema")
def schema(
    output: Path | None = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write the schema here instead of stdout."
    ),
) -> None:
    """Print the JSON Schema of keeneye.yaml (point your editor's YAML language server at it)."""
    from keeneye.config import json_schema

    text = json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        typer.echo(f"wrote {output}")
