"""``keeneye server`` (run the collector) and ``keeneye status`` (models at a glance)."""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path
from typing import Any

import typer

from keeneye.cli._exit import fail
from keeneye.cli._listen import bind_listening_socket, serve_until_stopped
from keeneye.config import Settings, load_settings
from keeneye.errors import KeeneyeError

_LOOPBACK_NAMES = {"localhost", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _settings(config: Path | None, **server: Any) -> Settings:
    overrides = {k: v for k, v in server.items() if v is not None}
    try:
        return load_settings(config, server=overrides) if overrides else load_settings(config)
    except KeeneyeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def read_token_file(path: Path, option: str) -> str:
    """The token in ``path`` (surrounding whitespace stripped); exits 2 naming the problem,
    never the file's content."""
    try:
        token = path.read_text().strip()
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"error: {option} {str(path)!r} cannot be read: {type(exc).__name__}", err=True)
        raise typer.Exit(2) from None
    if not token:
        typer.echo(f"error: {option} {str(path)!r} is empty; put the token in it", err=True)
        raise typer.Exit(2)
    return token


def server(
    store: str | None = typer.Option(
        None,
        "--store",
        show_default="keeneye.duckdb or server.store",
        help="Store: a DuckDB file (or duckdb:// URL), or postgresql://user@host:port/db to "
        "share it with other collectors and workers.",
    ),
    host: str | None = typer.Option(
        None, "--host", show_default="127.0.0.1 or server.host", help="Interface to bind."
    ),
    port: int | None = typer.Option(
        None, "--port", show_default="8765 or server.port", help="TCP port; 0 picks a free one."
    ),
    token: str | None = typer.Option(
        None,
        "--token",
        envvar="KEENEYE_SERVER__TOKEN",
        show_envvar=False,
        help="Bearer token clients must send (or KEENEYE_SERVER__TOKEN).",
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        show_default="$KEENEYE_CONFIG or ./keeneye.yaml",
        help="keeneye.yaml to read.",
    ),
    insecure: bool = typer.Option(
        False, "--insecure", help="Allow a non-loopback host without a token."
    ),
    token_file: Path | None = typer.Option(
        None,
        "--token-file",
        help="Read the bearer token from this file (keeps it off the command line).",
    ),
    no_analysis: bool = typer.Option(
        False,
        "--no-analysis",
        help="Collector only (API, UI, /metrics): leave the analysis to 'keeneye worker "
        "stats' and 'keeneye worker drift' processes on the same store.",
    ),
    events: str | None = typer.Option(
        None,
        "--events",
        envvar="KEENEYE_EVENTS",
        help="Keep events in OpenSearch/Elasticsearch: opensearch://[user@]host:9200 "
        "(opensearch+https:// for TLS, ?ca=FILE, ?replicas=N, ?retention_days=N; password from "
        "KEENEYE_OPENSEARCH_PASSWORD). --store then holds only models, baselines and results.",
    ),
) -> None:
    """Run the collector: ingestion API, model API and /metrics, on one embedded store."""

    from keeneye.server.app import create_app
    from keeneye.store import open_store

    if token_file is not None:
        token = read_token_file(token_file, "--token-file")

    settings = _settings(config, store=store, host=host, port=port, token=token)
    cfg = settings.server
    if no_analysis:
        settings.analysis.enabled = False
    if not is_loopback(cfg.host) and cfg.token is None and not insecure:
        typer.echo(
            f"error: refusing to listen on {cfg.host} without a token: anyone on the network "
            "could write events. Pass --token (or set KEENEYE_SERVER__TOKEN), bind 127.0.0.1, "
            "or pass --insecure if a proxy in front authenticates.",
            err=True,
        )
        raise typer.Exit(2)
    from keeneye.privacy.policy import policies

    try:
        policies(settings.privacy)  # a policy that cannot hash must stop the start
    except KeeneyeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    try:
        the_store = open_store(events, rest=cfg.store) if events else open_store(cfg.store)
    except KeeneyeError as exc:
        raise fail(exc) from exc
    sock = bind_listening_socket(cfg.host, cfg.port)
    real_port = sock.getsockname()[1]
    shown = f"[{cfg.host}]" if ":" in cfg.host else cfg.host
    app = create_app(settings, the_store)
    app.state.on_shutdown.append(the_store.close)
    # Printed before serving so that scripts and tests can read the real port (port 0).
    print(f"keeneye server listening on http://{shown}:{real_port}", flush=True)
    print(f"store: {cfg.store}", flush=True)
    if events:
        from keeneye.store.opensearch import parse_url

        print(f"events: {parse_url(events.split('?', 1)[0]).redacted_url()}", flush=True)
    try:
        serve_until_stopped(app, sock)
    finally:
        the_store.close()
    print("keeneye server stopped", flush=True)


def _fetch(url: str, token: str | None) -> list[dict[str, Any]]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(f"{url.rstrip('/')}/v1/models", headers=headers, timeout=5.0)
    if response.status_code != 200:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        typer.echo(f"error: {url} answered {response.status_code}: {message}", err=True)
        raise typer.Exit(1)
    models: list[dict[str, Any]] = response.json()["models"]
    return models


def _from_store(path: str) -> list[dict[str, Any]]:
    from keeneye.cli.remote import check_store
    from keeneye.server.model_routes import _summary
    from keeneye.store import open_store

    check_store(path, create=False)
    store = open_store(path)
    try:
        return [_summary(s) for s in store.list_models()]
    finally:
        store.close()


def _percent(value: Any) -> str:
    return "—" if value is None else f"{100 * float(value):.1f} %"


def _delay(value: Any) -> str:
    if value is None:
        return "—"
    seconds = float(value)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} s"


def status(
    url: str | None = typer.Option(None, "--url", help="A running server (default from config)."),
    store: str | None = typer.Option(None, "--store", help="Read this store file directly."),
    token: str | None = typer.Option(
        None, "--token", envvar="KEENEYE_SERVER__TOKEN", show_envvar=False, help="Bearer token."
    ),
    config: Path | None = typer.Option(None, "--config", help="keeneye.yaml to read."),
) -> None:
    """Models, versions, live version, events, labels and label coverage; then the collectors
    and workers alive on the store (their heartbeats)."""
    import httpx
    from rich.console import Console
    from rich.table import Table

    settings = _settings(config)
    cfg = settings.server
    secret = token or (cfg.token.get_secret_value() if cfg.token else None)
    source: str
    try:
        if store is not None:
            models, source = _from_store(store), store
        else:
            target = url or f"http://{cfg.host}:{cfg.port}"
            try:
                models, source = _fetch(target, secret), target
            except httpx.TransportError:
                if url is not None or not Path(cfg.store).exists():
                    typer.echo(
                        f"error: no keeneye server answers at {target} and no store file "
                        f"{cfg.store!r} to read; start 'keeneye server' or pass --store PATH",
                        err=True,
                    )
                    raise typer.Exit(1) from None
                models, source = _from_store(cfg.store), cfg.store
    except KeeneyeError as exc:
        raise fail(exc) from exc
    table = Table(title=f"keeneye status — {source}")
    for column in ("model", "versions", "live", "events", "labels", "coverage", "label delay"):
        table.add_column(column, justify="right" if column in ("events", "labels") else "left")
    for m in models:
        table.add_row(
            m["model"],
            ", ".join(m["versions"]),
            m["live_version"] or "—",
            f"{m['events']:,}",
            f"{m['labels']:,}",
            _percent(m["label_coverage"]),
            _delay(m["median_label_delay_seconds"]),
        )
    console = Console(file=sys.stdout, width=max(100, Console().width))
    if not models:
        console.print(f"no models in {source} yet")
    else:
        console.print(table)
        console.print(
            "labels re-open their window at any delay; the active performance alert uses the "
            f"latest labelled window of the last {settings.analysis.recheck_days:g} days "
            "(analysis.recheck_days)"
        )
    from keeneye.cli import _services

    try:
        if source.startswith(("http://", "https://")):
            live = _services.from_server(source, secret)
        else:
            live = _services.from_store(source)
    except (KeeneyeError, httpx.HTTPError):
        live = []
    _services.print_services(console, live)


def register(app: typer.Typer) -> None:
    """Add ``server`` and ``status`` to the ``keeneye`` command."""
    app.command("server")(server)
    app.command("status")(status)
