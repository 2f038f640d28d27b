"""``keeneye alerts``: the alert history (firing, resolved, sent, failed), newest first."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from keeneye.cli._exit import fail
from keeneye.config import load_settings
from keeneye.errors import InputError, KeeneyeError

_STATUS_STYLE = {"firing": "bold red", "resolved": "green", "sent": "cyan", "failed": "yellow"}


def register(app: typer.Typer) -> None:
    app.command(name="alerts")(alerts)


def alerts(
    url: str | None = typer.Option(
        None, "--url", help="Read from a running keeneye server (GET /v1/alerts)."
    ),
    store: str | None = typer.Option(
        None,
        "--store",
        help="Read a store directly: a DuckDB file or a store URL such as postgresql://… "
        "(default: server.store).",
    ),
    model: str | None = typer.Option(None, "--model", help="Only this model's alerts."),
    limit: int = typer.Option(100, "--limit", min=1, help="How many records, newest first."),
    token: str | None = typer.Option(
        None, "--token", envvar="KEENEYE_TOKEN", help="Bearer token of the server (with --url)."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON record per line."),
) -> None:
    """List the alert history: when each alert fired, was resolved, and where it was sent."""
    if url is not None and store is not None:
        raise typer.BadParameter("give --url or --store, not both")
    try:
        records = (
            _from_server(url, model, limit, token)
            if url is not None
            else _from_store(store, model, limit)
        )
    except KeeneyeError as exc:
        raise fail(exc) from exc
    if as_json:
        for record in records:
            typer.echo(json.dumps(record, sort_keys=True))
        return
    # Piped output is not cut to 80 columns: the table is read in logs and files too.
    print_history(records, Console(width=None if sys.stdout.isatty() else 160))


def print_history(records: list[dict[str, Any]], console: Console) -> None:
    """Print alert-history records (newest first) as a table."""
    if not records:
        console.print("no alerts recorded")
        return
    table = Table(title="keeneye alert history (newest first)")
    for column in ("at", "model", "version", "rule", "subject", "severity", "status", "window"):
        table.add_column(column, no_wrap=True)
    table.add_column("channel", overflow="fold")
    table.add_column("summary", overflow="fold", min_width=20)
    for r in records:
        status = str(r.get("status", ""))
        what = status if "notification" not in r else f"{status} ({r['notification']})"
        channel = str(r.get("channel") or "")
        if r.get("error"):
            channel += f"\n{r['error']}"
        table.add_row(
            str(r.get("at", ""))[:19].replace("T", " "),
            str(r.get("model", "")),
            str(r.get("version", "")),
            str(r.get("rule", "")),
            str(r.get("subject", "")),
            str(r.get("severity", "")),
            f"[{_STATUS_STYLE.get(status, '')}]{what}[/]" if status in _STATUS_STYLE else what,
            _window(r),
            channel,
            str(r.get("summary", "")),
        )
    console.print(table)


def _window(record: dict[str, Any]) -> str:
    """The window a record is about, e.g. ``2026-03-02 00:00 → 03-03 00:00``."""
    start, end = record.get("window_start"), record.get("window_end")
    if not start or not end:
        return ""
    return f"{str(start)[:16].replace('T', ' ')} → {str(end)[5:16].replace('T', ' ')}"


def _from_store(location: str | None, model: str | None, limit: int) -> list[dict[str, Any]]:
    from keeneye.store import open_store

    where = location if location is not None else str(load_settings().server.store)
    scheme, sep, rest = where.partition("://")
    file = Path(rest if sep and scheme == "duckdb" else where)
    if (not sep or scheme == "duckdb") and not file.exists():
        raise InputError(
            f"store file {str(file)!r} does not exist; pass --store PATH of a keeneye store "
            "(or a store URL), or --url of a running server"
        )
    store = open_store(where)
    try:
        return store.list_alerts(model, limit=limit)
    finally:
        store.close()


def _from_server(
    url: str, model: str | None, limit: int, token: str | None
) -> list[dict[str, Any]]:
    params: dict[str, str | int] = {"limit": limit}
    if model:
        params["model"] = model
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.get(
            f"{url.rstrip('/')}/v1/alerts", params=params, headers=headers, timeout=10
        )
    except httpx.HTTPError as exc:
        raise KeeneyeError(f"cannot reach the keeneye server at {url}: {exc}") from exc
    if response.status_code != 200:
        raise KeeneyeError(
            f"GET {url.rstrip('/')}/v1/alerts answered {response.status_code}: "
            f"{response.text[:300]}"
        )
    body = response.json()
    records = body.get("alerts", body) if isinstance(body, dict) else body
    if not isinstance(records, list):
        raise KeeneyeError(f"GET /v1/alerts returned an unexpected body: {str(body)[:200]}")
    return records
