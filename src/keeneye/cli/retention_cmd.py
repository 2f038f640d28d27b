"""``keeneye retention``: delete raw events older than an age, in bounded batches."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import typer

from keeneye.cli._exit import fail
from keeneye.clock import utc_now
from keeneye.config import load_settings
from keeneye.errors import KeeneyeError


def retention(
    days: float | None = typer.Option(
        None,
        "--days",
        min=0.0,
        help="Delete events older than this many days (default server.retention_days).",
    ),
    store: str | None = typer.Option(
        None, "--store", help="DuckDB file or postgresql:// URL (default server.store)."
    ),
    batch_size: int = typer.Option(
        10_000, "--batch-size", min=1, help="Events deleted per transaction."
    ),
    config: Path | None = typer.Option(None, "--config", help="keeneye.yaml to read."),
) -> None:
    """Delete raw events and their labels older than an age; reports, fitted references and
    the alert history stay. Safe beside running collectors and workers on PostgreSQL."""
    from keeneye.store import open_store

    try:
        settings = load_settings(config)
    except KeeneyeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    age = days if days is not None else settings.server.retention_days
    if age is None:
        typer.echo(
            "error: no age given: pass --days N or set server.retention_days "
            "(KEENEYE_SERVER__RETENTION_DAYS)",
            err=True,
        )
        raise typer.Exit(2)
    before = utc_now() - timedelta(days=age)
    try:
        the_store = open_store(store or settings.server.store)
        try:
            deleted = the_store.delete_events_before(before, batch_size=batch_size)
        finally:
            the_store.close()
    except KeeneyeError as exc:
        raise fail(exc) from exc
    typer.echo(f"deleted {deleted:,} event(s) older than {before.isoformat(timespec='seconds')}")


def register(app: typer.Typer) -> None:
    """Add ``retention`` to the ``keeneye`` command."""
    app.command("retention")(retention)
