"""The ``keeneye`` command line. Each sub-command lives in its own module under ``keeneye.cli``
and adds itself to the app through a ``register(app)`` function listed in ``COMMAND_MODULES``."""

from __future__ import annotations

import importlib

import typer

from keeneye import __version__

#: Modules that contribute commands; each defines ``register(app: typer.Typer) -> None``.
COMMAND_MODULES: tuple[str, ...] = (
    "keeneye.cli.compare_cmd",
    "keeneye.cli.server_cmd",
    "keeneye.cli.analysis_cmd",
    "keeneye.cli.demo_cmd",
    "keeneye.cli.alerts_cmd",
    "keeneye.cli.export_cmd",
    "keeneye.cli.serve_cmd",
    "keeneye.cli.retention_cmd",
)

app = typer.Typer(
    name="keeneye",
    help="Keep an eye on machine-learning models in production.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"keeneye {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
    ),
) -> None:
    """Keep an eye on machine-learning models in production."""


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that command is not built yet
                continue
            raise
        module.register(app)


_register_all()


def main() -> None:
    """Entry point of the ``keeneye`` console script."""
    app()
