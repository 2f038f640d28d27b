"""``keeneye demo``: replay three weeks of production traffic with incidents, show what keeneye
detects, then keep serving the API and ``/metrics``."""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from keeneye.errors import KeeneyeError, MissingExtraError


def register(app: typer.Typer) -> None:
    app.command(name="demo")(demo)


def demo(
    once: bool = typer.Option(False, "--once", help="Exit after the replay (for CI and tests)."),
    port: int = typer.Option(8765, "--port", help="Port of the demo's server (0 picks one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface of the demo's server."),
    store: Path | None = typer.Option(
        None, "--store", help="New DuckDB file to fill (default: one in a temporary folder)."
    ),
    days: int = typer.Option(21, "--days", min=21, help="Simulated days (the plan needs 21)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the simulated traffic."),
    config: Path | None = typer.Option(
        None, "--config", help="keeneye.yaml to read (its notify.urls also get the alerts)."
    ),
    daily_only: bool = typer.Option(
        False,
        "--daily-only",
        help="Only daily windows, analysed once per simulated day (faster); by default the "
        "server's windows (hourly and daily), analysed every simulated hour.",
    ),
) -> None:
    """Train a model, replay three weeks of traffic with incidents through the SDK and the
    collector, and print what keeneye detected and which notifications went out."""
    try:
        from keeneye.demo import DemoOptions, DemoResult, render, run_demo
    except ImportError as exc:  # scikit-learn is an optional extra
        raise MissingExtraError(exc.name or "sklearn", "demo") from exc

    # Piped output (CI logs) gets a wide table instead of rich's 80-column default.
    console = Console(width=None if sys.stdout.isatty() else 160)
    path = store or Path(tempfile.mkdtemp(prefix="keeneye-demo-")) / "demo.duckdb"
    console.print(
        f"[bold]keeneye demo[/]: {days} simulated days, store {path}; training a "
        "logistic regression on scikit-learn's breast-cancer data …"
    )
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} simulated hours"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("replaying", total=days * 24)

        def advance(done: int, total: int, when: datetime) -> None:
            progress.update(task, completed=done, description=f"{when:%a %Y-%m-%d %H:%M} UTC")

        def serve(result: DemoResult) -> None:
            progress.stop()
            render(result, console)
            url = result.url
            console.print(
                f"\nserving on [bold]{url}[/]: API docs {url}/docs · models {url}/v1/models · "
                f"alerts {url}/v1/alerts · Prometheus {url}/metrics\npress Ctrl-C to stop"
            )
            try:
                while True:
                    time.sleep(0.5)
            except KeyboardInterrupt:
                console.print("stopping")

        options = DemoOptions(
            store=path,
            host=host,
            port=port,
            days=days,
            seed=seed,
            config=config,
            progress=advance,
            daily_only=daily_only,
        )
        try:
            result = run_demo(options, keep_serving=None if once else serve)
        except KeeneyeError as exc:
            progress.stop()
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
    if once:
        render(result, console)
        if not result.ok:
            raise typer.Exit(1)
