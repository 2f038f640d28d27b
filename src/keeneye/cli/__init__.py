"""The ``keeneye`` command line. Each sub-command lives in its own module under ``keeneye.cli``
and adds itself to the app through a ``register(app)`` function listed in ``COMMAND_MODULES``."""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from keeneye import __version__
from keeneye.cli._help import polish

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
    "keeneye.cli.config_cmd",
)

#: Commands whose module is imported only when the command runs (``keeneye --help`` and a
#: quick ``keeneye compare`` must not import every command's dependencies): command name →
#: (module, help shown in ``keeneye --help``). The help is the first paragraph of the command's
#: docstring, exactly (``tests/test_cli_lazy.py`` checks it). Modules of ``COMMAND_MODULES`` that
#: no entry names are imported at start-up as before. Order: as ``keeneye --help`` lists them
#: (commands, then command groups).
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "compare": (
        "keeneye.cli.compare_cmd",
        "Compare two tables column by column and report which features drifted.",
    ),
    "report": (
        "keeneye.cli.compare_cmd",
        "Write a self-contained HTML drift report (opens without network).",
    ),
    "server": (
        "keeneye.cli.server_cmd",
        "Run the collector: ingestion API, model API and /metrics, on one embedded store.",
    ),
    "status": (
        "keeneye.cli.server_cmd",
        "Models, versions, live version, events, labels and label coverage; then the collectors\n"
        "and workers alive on the store (their heartbeats).",
    ),
    "analyze": (
        "keeneye.cli.analysis_cmd",
        "Compute every complete window that is not computed yet (or re-opened by late data),\n"
        "save the results, and print the alerts they raise. With --url the running server does\n"
        "it (the store has one writer), with a progress bar here.",
    ),
    "worker": (
        "keeneye.cli.analysis_cmd",
        "Run one analysis job in a loop against a store, as a separate process.",
    ),
    "demo": (
        "keeneye.cli.demo_cmd",
        "Train a model, replay three weeks of traffic with incidents through the SDK and the\n"
        "collector, and print what keeneye detected and which notifications went out.",
    ),
    "alerts": (
        "keeneye.cli.alerts_cmd",
        "List the alert history: when each alert fired, was resolved, and where it was sent.",
    ),
    "serve-model": (
        "keeneye.cli.serve_cmd",
        "Serve a model (V2 REST + /predict + /metrics) and log its predictions to keeneye.",
    ),
    "baseline": ("keeneye.cli.analysis_cmd", "Register the training data of model versions."),
    "config": (
        "keeneye.cli.config_cmd",
        "Check keeneye.yaml and KEENEYE_* variables; print its JSON Schema.",
    ),
    "export": (
        "keeneye.cli.export_cmd",
        "Write Prometheus, Alertmanager and Grafana files for keeneye.",
    ),
    "stack": (
        "keeneye.cli.export_cmd",
        "Run a local Prometheus and Alertmanager against the local keeneye server.",
    ),
    "retention": (
        "keeneye.cli.retention_cmd",
        "Delete raw events and their labels older than an age; reports, fitted references and\n"
        "the alert history stay. Safe beside running collectors and workers on PostgreSQL.",
    ),
}


def load_module_commands(name: str) -> dict[str, Any]:
    """The (click) commands a command module registers, by name (imports the module)."""
    sub = typer.Typer()
    importlib.import_module(name).register(sub)
    return dict(typer.main.get_group(sub).commands)


class _LazyGroup(TyperGroup):
    """Lists the lazy commands from :data:`LAZY_COMMANDS`; imports one when it is invoked."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = list(super().list_commands(ctx))
        return names + [n for n in LAZY_COMMANDS if n not in self.commands]

    def _load(self, name: str) -> None:
        for command_name, command in load_module_commands(LAZY_COMMANDS[name][0]).items():
            self.commands.setdefault(command_name, command)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in LAZY_COMMANDS:
            return polish(command) if command is not None else None
        if ctx.resilient_parsing or getattr(ctx, "_keeneye_listing", False):
            # Listing the commands (help, completion): the help text, without the import.
            return TyperCommand(cmd_name, help=LAZY_COMMANDS[cmd_name][1])
        self._load(cmd_name)
        return polish(super().get_command(ctx, cmd_name))

    def format_help(self, ctx: Any, formatter: Any) -> None:
        polish(self)
        ctx._keeneye_listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            ctx._keeneye_listing = False


app = typer.Typer(
    name="keeneye",
    cls=_LazyGroup,
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
    lazy_modules = {module for module, _ in LAZY_COMMANDS.values()}
    for name in COMMAND_MODULES:
        if name in lazy_modules:
            continue  # imported when one of its commands runs (_LazyGroup)
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
