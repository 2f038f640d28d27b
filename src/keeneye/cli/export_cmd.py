"""``keeneye export prometheus|grafana`` and ``keeneye stack up|down|status``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError

from keeneye.config import Settings, load_settings
from keeneye.errors import KeeneyeError

if TYPE_CHECKING:
    from keeneye.integrations.prometheus.options import ExportOptions

export_app = typer.Typer(
    help="Write Prometheus, Alertmanager and Grafana files for keeneye.", no_args_is_help=True
)
stack_app = typer.Typer(
    help="Run a local Prometheus and Alertmanager against the local keeneye server.",
    no_args_is_help=True,
)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _explain(exc: ValidationError) -> str:
    """One line per problem, naming the option and the value (pydantic's text is verbose)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'options'}={err.get('input')!r}: "
        f"{str(err['msg']).removeprefix('Value error, ')}"
        for err in exc.errors()
    )


def _load(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except KeeneyeError as exc:
        raise _fail(str(exc)) from exc


def _options(config: Path | None, **overrides: object) -> ExportOptions:
    from keeneye.integrations.prometheus.options import ExportOptions

    try:
        return ExportOptions.from_settings(_load(config), **overrides)
    except ValidationError as exc:
        raise _fail(f"invalid export options: {_explain(exc)}") from exc
    except KeeneyeError as exc:
        raise _fail(f"invalid export options: {exc}") from exc


@export_app.command("prometheus")
def export_prometheus(
    out: Path = typer.Option(..., "--out", help="Folder to write (created when missing)."),
    config: Path | None = typer.Option(None, "--config", help="keeneye.yaml with the thresholds."),
    server: list[str] = typer.Option(
        [], "--server", help="host:port of a keeneye server to scrape (default: from config)."
    ),
    target: list[str] = typer.Option(
        [], "--target", help="host:port of an instrumented model server (repeatable)."
    ),
    alertmanager: list[str] = typer.Option(
        [], "--alertmanager", help="host:port of Alertmanager (default 127.0.0.1:9093)."
    ),
    webhook_url: str | None = typer.Option(
        None, "--webhook-url", help="Alertmanager sends keeneye's alerts to this webhook."
    ),
    email_to: str | None = typer.Option(None, "--email-to", help="... or to this address."),
    smarthost: str | None = typer.Option(None, "--smarthost", help="SMTP host:port for e-mail."),
    scrape_interval: str | None = typer.Option(None, "--scrape-interval", help="e.g. 15s"),
    runbook_base_url: str | None = typer.Option(
        None, "--runbook-base-url", help="Page the runbook_url annotations link to."
    ),
) -> None:
    """prometheus.yml, recording and alerting rules with promtool tests, alertmanager.yml."""
    from keeneye.integrations.prometheus.export import write_prometheus_files
    from keeneye.integrations.prometheus.options import ReceiverOptions

    receiver: dict[str, object] = {"webhook_url": webhook_url, "email_to": email_to}
    if smarthost:
        receiver["smarthost"] = smarthost
    try:
        receiver_options = ReceiverOptions.model_validate(receiver)
    except ValidationError as exc:
        raise _fail(f"invalid receiver: {_explain(exc)}") from exc
    options = _options(
        config,
        server_targets=server or None,
        model_targets=target or None,
        alertmanager_targets=alertmanager or None,
        receiver=receiver_options,
        scrape_interval=scrape_interval,
        evaluation_interval=scrape_interval,
        runbook_base_url=runbook_base_url,
    )
    written = write_prometheus_files(out, options)
    for path in written:
        typer.echo(str(path))
    if not (webhook_url or email_to):
        typer.echo(
            "note: no --webhook-url or --email-to: alertmanager.yml routes keeneye's alerts "
            "to a receiver without destinations; add one before deploying it.",
            err=True,
        )


@export_app.command("grafana")
def export_grafana(
    out: Path = typer.Option(..., "--out", help="Folder to write (created when missing)."),
    config: Path | None = typer.Option(None, "--config", help="keeneye.yaml to read."),
    prometheus_url: str = typer.Option(
        "http://127.0.0.1:9090", "--prometheus-url", help="URL Grafana reaches Prometheus at."
    ),
    dashboards_path: str = typer.Option(
        "/var/lib/grafana/dashboards/keeneye",
        "--dashboards-path",
        help="Where Grafana will find the dashboards' JSON (the provider's path).",
    ),
) -> None:
    """Grafana dashboards (fleet, per model) and datasource/dashboard provisioning files."""
    from keeneye.integrations.grafana.provisioning import write_grafana_files

    try:
        written = write_grafana_files(out, _options(config), prometheus_url, dashboards_path)
    except KeeneyeError as exc:
        raise _fail(str(exc)) from exc
    for path in written:
        typer.echo(str(path))


@stack_app.command("up")
def stack_up(
    data: Path = typer.Option(
        Path(".keeneye-stack"), "--data", "--dir", help="Folder for configs, data, PIDs."
    ),
    config: Path | None = typer.Option(None, "--config", help="keeneye.yaml to read."),
    target: list[str] = typer.Option([], "--target", help="host:port of a model server."),
    webhook_url: str | None = typer.Option(None, "--webhook-url", help="Alert webhook."),
    prometheus_port: int = typer.Option(9090, "--prometheus-port", help="0 picks a free port."),
    alertmanager_port: int = typer.Option(9093, "--alertmanager-port", help="0: a free port."),
    opensearch: bool = typer.Option(
        False,
        "--opensearch",
        help="Start an OpenSearch node (built from Maven Central once) "
        "instead of Prometheus and Alertmanager; `stack status` prints its URL.",
    ),
    opensearch_port: int = typer.Option(9200, "--opensearch-port", help="0 picks a free port."),
) -> None:
    """Start Prometheus and Alertmanager on 127.0.0.1 with keeneye's generated config (or,
    with --opensearch, an OpenSearch node for `keeneye server --events opensearch://…`)."""
    from keeneye.integrations.prometheus.options import ReceiverOptions
    from keeneye.integrations.stack import opensearch_up
    from keeneye.integrations.stack import stack_up as up

    if opensearch:
        try:
            node = opensearch_up(data, port=opensearch_port)
        except KeeneyeError as exc:
            raise _fail(str(exc), 1) from exc
        typer.echo(f"opensearch: pid {node['pid']} on {node['url']} (data {node['data']})")
        return

    options = _options(
        config,
        model_targets=target or None,
        receiver=ReceiverOptions.model_validate({"webhook_url": webhook_url}),
    )
    try:
        state = up(
            data, options, prometheus_port=prometheus_port, alertmanager_port=alertmanager_port
        )
    except KeeneyeError as exc:
        raise _fail(str(exc), 1) from exc
    for name, proc in state.items():
        typer.echo(f"{name}: pid {proc['pid']} on {proc['url']}")


@stack_app.command("down")
def stack_down(
    data: Path = typer.Option(
        Path(".keeneye-stack"), "--data", "--dir", help="Folder given to `up`."
    ),
) -> None:
    """Stop what `keeneye stack up` started (by its recorded PIDs)."""
    from keeneye.integrations.stack import stack_down as down

    for name in down(data):
        typer.echo(f"{name}: stopped")


@stack_app.command("status")
def stack_status(
    data: Path = typer.Option(
        Path(".keeneye-stack"), "--data", "--dir", help="Folder given to `up`."
    ),
) -> None:
    """Which stack processes run, with their PIDs and URLs."""
    from keeneye.integrations.stack import stack_status as status

    found = status(data)
    if not found:
        typer.echo("no stack running")
        raise typer.Exit(1)
    for name, info in found.items():
        state = "running" if info["running"] else "not running"
        typer.echo(f"{name}: {state} (pid {info['pid']}, {info['url']})")


def register(app: typer.Typer) -> None:
    """Add ``export`` and ``stack`` to the keeneye CLI."""
    app.add_typer(export_app, name="export")
    app.add_typer(stack_app, name="stack")
