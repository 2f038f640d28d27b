"""``keeneye analyze``, ``keeneye worker stats|drift`` and ``keeneye baseline register``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from keeneye.analysis.history import record_history
from keeneye.analysis.runner import AnalysisRunner, RunReport
from keeneye.analysis.service import AnalysisService
from keeneye.baseline.register import register_baseline
from keeneye.baseline.sources import source_scheme
from keeneye.cli._exit import fail
from keeneye.cli.remote import (
    check_store,
    fetch_skew,
    register_source,
    run_analysis,
    upload_baseline,
)
from keeneye.clock import SystemClock
from keeneye.config import Settings, load_settings
from keeneye.errors import KeeneyeError
from keeneye.notify.alert import Alert
from keeneye.store import open_store

if TYPE_CHECKING:
    from keeneye.baseline.skew import SkewReport

baseline_app = typer.Typer(help="Register the training data of model versions.")
JOBS = ("stats", "drift")


def register(app: typer.Typer) -> None:
    app.command(name="analyze")(analyze)
    app.command(name="worker")(worker)
    app.add_typer(baseline_app, name="baseline")


def _settings(config: Path | None, store: Path | str | None) -> Settings:
    try:
        settings = load_settings(config)
    except KeeneyeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if store is not None:
        settings.server.store = str(store)
    return settings


def _time(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 time", param_hint=name) from exc
    if parsed.tzinfo is None:
        raise typer.BadParameter(f"{value!r} needs a UTC offset, e.g. +00:00", param_hint=name)
    return parsed


def print_alerts(alerts: Sequence[Alert], console: Console) -> None:
    for alert in alerts:
        style = "bold red" if alert.severity.value == "critical" else "yellow"
        console.print(f"[{style}]{alert.severity.value.upper()}[/] {alert.summary}")


def analyze(
    store: str | None = typer.Option(
        None, "--store", help="DuckDB file or postgresql:// URL (default server.store)."
    ),
    config: Path | None = typer.Option(None, "--config", help="keeneye.yaml to read."),
    backfill: bool = typer.Option(
        False,
        "--backfill",
        help="Reach back to each model's first event (not only analysis.backfill_days).",
    ),
    since: str | None = typer.Option(None, "--since", help="Only windows from this time (ISO)."),
    until: str | None = typer.Option(None, "--until", help="Only windows up to this time (ISO)."),
    model: list[str] | None = typer.Option(None, "--model", help="Only these models."),
    url: str | None = typer.Option(
        None,
        "--url",
        help="Run the analysis on this running keeneye server (a backfill of any range).",
    ),
    token: str | None = typer.Option(
        None, "--token", envvar="KEENEYE_TOKEN", help="Bearer token of the server (with --url)."
    ),
    create: bool = typer.Option(
        False, "--create", help="Create the --store file if it does not exist."
    ),
) -> None:
    """Compute every complete window that is not computed yet (or re-opened by late data),
    save the results, and print the alerts they raise. With --url the running server does
    it (the store has one writer), with a progress bar here."""
    console = Console(stderr=False, width=None if sys.stdout.isatty() else 160)
    # usage first: no progress bar (and no store opened) before a usage error
    since_at, until_at = _time("--since", since), _time("--until", until)
    if url is not None:
        if store is not None:
            raise typer.BadParameter("give --url or --store, not both")
        _analyze_remote(url, token, since_at, until_at, backfill, model, console)
        return
    settings = _settings(config, store)
    try:
        check_store(settings.server.store, create=create)
        the_store = open_store(settings.server.store)
    except KeeneyeError as exc:
        raise fail(exc) from exc
    try:
        runner = AnalysisRunner(the_store, settings, SystemClock())
        with Progress(
            TextColumn("[bold]analyze"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=console,
            transient=False,
        ) as bar:
            task = bar.add_task("", total=None)

            def progress(done: int, total: int, what: str) -> None:
                bar.update(task, completed=done, total=total, description=what)

            report: RunReport = runner.run_once(
                since=since_at,
                until=until_at,
                backfill=backfill,
                models=model or None,
                progress=progress,
            )
        record_history(the_store, report)
    except KeeneyeError as exc:
        raise fail(exc) from exc
    finally:
        the_store.close()
    console.print(
        f"{report.windows} window job(s) computed, {len(report.computed)} result(s) saved, "
        f"{len(report.alerts)} alert(s) found"
    )
    print_alerts(report.alerts, console)


def _analyze_remote(
    url: str,
    token: str | None,
    since: datetime | None,
    until: datetime | None,
    backfill: bool,
    model: list[str] | None,
    console: Console,
) -> None:
    try:
        job = run_analysis(
            url,
            token,
            since=since,
            until=until,
            backfill=backfill,
            models=model or None,
            console=console,
        )
    except KeeneyeError as exc:
        raise fail(exc) from exc
    result = job.get("result") or {}
    found = result.get("alerts", [])
    console.print(
        f"{result.get('windows', 0)} window job(s) computed by {url}, "
        f"{result.get('results', 0)} result(s) saved, {len(found)} alert(s) found"
    )
    for alert in found:
        style = "bold red" if alert.get("severity") == "critical" else "yellow"
        console.print(
            f"[{style}]{str(alert.get('severity', '')).upper()}[/] {alert.get('summary')} "
            f"({alert.get('window_start')} – {alert.get('window_end')})"
        )


def worker(
    job: str = typer.Argument(..., help="Which job to run: stats or drift."),
    store: str | None = typer.Option(
        None,
        "--store",
        help="Store: a DuckDB file or a postgresql://user@host/db URL (default server.store). "
        "Several workers and collectors share a PostgreSQL store.",
    ),
    config: Path | None = typer.Option(None, "--config", help="keeneye.yaml to read."),
    interval: float | None = typer.Option(
        None,
        "--interval",
        min=0.1,
        help="Seconds between runs (default analysis.interval_seconds).",
    ),
    once: bool = typer.Option(False, "--once", help="Run once and exit."),
    lease_seconds: float = typer.Option(
        60.0,
        "--lease-seconds",
        min=0.1,
        help="How long a claimed window stays claimed; a killed worker's windows are taken "
        "over after this.",
    ),
    metrics_port: int | None = typer.Option(
        None,
        "--metrics-port",
        help="Serve this worker's /metrics on 127.0.0.1:PORT (0 picks a free port).",
    ),
    metrics_host: str = typer.Option(
        "127.0.0.1", "--metrics-host", help="Interface of the /metrics endpoint."
    ),
) -> None:
    """Run one analysis job in a loop against a store, as a separate process.

    Any number of workers of each job may share one PostgreSQL store: each window is claimed
    with a lease before it is computed, so it is computed once.
    """
    from keeneye.analysis.leased import LeasedRunner
    from keeneye.workers.process import WorkerMetrics, WorkerProcess

    if job not in JOBS:
        raise typer.BadParameter(
            f"{job!r} is not a job; use one of {', '.join(JOBS)}", param_hint="JOB"
        )
    settings = _settings(config, store)
    console = Console()
    try:
        the_store = open_store(settings.server.store)
    except KeeneyeError as exc:
        raise fail(exc) from exc
    runner = LeasedRunner(
        the_store, settings, SystemClock(), jobs=(job,), lease_seconds=lease_seconds
    )
    # A worker notifies only for the statistics job: one process owns the notifications.
    notifier = None
    if job == "stats" and settings.notify.urls:
        from keeneye.notify import Notifier

        notifier = Notifier(settings.notify, store=the_store, public_url=settings.server.public_url)
    service = AnalysisService(
        runner,
        interval if interval is not None else settings.analysis.interval_seconds,
        None if notifier is None else notifier.process,
    )
    try:
        if once:
            report = service.run_now()
            console.print(f"{job}: {report.windows} window(s) computed")
            print_alerts(report.alerts, console)
            return
        metrics = WorkerMetrics(job)
        process = WorkerProcess(runner, service.interval, metrics)
        if notifier is not None:
            process.sink = notifier.process
        if metrics_port is not None:
            bound = metrics.serve(metrics_host, metrics_port)
            print(
                f"keeneye worker {job} metrics on http://{metrics_host}:{bound}/metrics", flush=True
            )
        print(
            f"keeneye worker {job} ({runner.owner}): running every {service.interval:g}s "
            "(Ctrl-C stops)",
            flush=True,
        )
        try:
            process.run_forever()
        except KeyboardInterrupt:
            pass
        finally:
            process.stop()
    finally:
        if notifier is not None:
            notifier.close()
        the_store.close()


@baseline_app.command("register")
def baseline_register(
    model: str = typer.Argument(..., help="Model name."),
    version: str = typer.Argument(..., help="Model version the training data belongs to."),
    source: str = typer.Argument(
        ...,
        help="Training data: a .parquet, .pq, .csv or .csv.gz file, or "
        "dvc://REPO_PATH/path/to/data.parquet@REV (read through DVC), or "
        "'feast://REPO_PATH?feature_service=NAME&start=ISO&end=ISO' (a Feast feature service's "
        "offline features over [start, end)); with --url, the server reads them.",
    ),
    store: str | None = typer.Option(
        None, "--store", help="DuckDB file or postgresql:// URL (default server.store)."
    ),
    config: Path | None = typer.Option(None, "--config", help="keeneye.yaml to read."),
    url: str | None = typer.Option(
        None, "--url", help="Register through this running keeneye server (PUT …/baseline)."
    ),
    token: str | None = typer.Option(
        None, "--token", envvar="KEENEYE_TOKEN", help="Bearer token of the server (with --url)."
    ),
    create: bool = typer.Option(
        False, "--create", help="Create the --store file if it does not exist."
    ),
) -> None:
    """Register the training data of MODEL VERSION as its baseline (it may carry the model's
    score/probability columns, which the score drift test compares with). Where it came from
    (file hash, DVC revision and md5, Feast service, features and range) is kept in the version's
    lineage."""
    if url is not None and store is not None:
        raise typer.BadParameter("give --url or --store, not both")
    try:
        if url is not None and source_scheme(source) is not None:
            answer = register_source(url, model, version, source, token)
            rows, columns = int(answer["rows"]), [str(c) for c in answer["columns"]]
        elif url is not None:
            answer = upload_baseline(url, model, version, Path(source), token)
            rows, columns = int(answer["rows"]), [str(c) for c in answer["columns"]]
        else:
            settings = _settings(config, store)
            check_store(settings.server.store, create=create)
            the_store = open_store(settings.server.store)
            try:
                info = register_baseline(the_store, model, version, source)
            finally:
                the_store.close()
            rows, columns = info.rows, list(info.columns)
    except KeeneyeError as exc:
        raise fail(exc) from exc
    typer.echo(
        f"baseline of {model} v{version}: {rows} rows, {len(columns)} columns "
        f"({', '.join(columns[:8])}{' …' if len(columns) > 8 else ''})"
    )


@baseline_app.command("skew")
def baseline_skew(
    model: str = typer.Argument(..., help="Model name."),
    version: str = typer.Argument(..., help="Version whose baseline came from Feast."),
    sample: int = typer.Option(200, "--sample", min=1, help="Entity keys to compare."),
    store: str | None = typer.Option(
        None, "--store", help="DuckDB file or postgresql:// URL (default server.store)."
    ),
    config: Path | None = typer.Option(None, "--config", help="keeneye.yaml to read."),
    url: str | None = typer.Option(
        None, "--url", help="Ask this running keeneye server (GET …/skew)."
    ),
    token: str | None = typer.Option(
        None, "--token", envvar="KEENEYE_TOKEN", help="Bearer token of the server (with --url)."
    ),
) -> None:
    """Training-serving skew of a version whose baseline came from Feast.

    For sampled entity keys of the baseline, the features Feast serves online against the
    offline store's latest values, per feature: share of mismatches, online − offline."""
    from keeneye.baseline.skew import check_skew, report_from_payload

    if url is not None and store is not None:
        raise typer.BadParameter("give --url or --store, not both")
    try:
        if url is not None:
            report = report_from_payload(fetch_skew(url, model, version, sample, token))
        else:
            settings = _settings(config, store)
            check_store(settings.server.store, create=False)
            the_store = open_store(settings.server.store)
            try:
                report = check_skew(the_store, model, version, sample=sample)
            finally:
                the_store.close()
    except KeeneyeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    print_skew(report)


def print_skew(report: SkewReport) -> None:
    """One line per feature, skewed ones marked."""

    def num(value: float | None) -> str:
        return "-" if value is None else f"{value:.6g}"

    typer.echo(
        f"skew of {report.model} v{report.version} (feature service {report.feature_service}): "
        f"{report.sampled} entity keys ({', '.join(report.entity_keys)}) online vs offline"
    )
    typer.echo(
        f"{'feature':<24} {'mismatch':>9} {'missing':>8} {'mean diff':>11} {'max |diff|':>11}"
    )
    for f in report.features:
        mark = "  SKEW" if f.mismatches else ""
        typer.echo(
            f"{f.feature:<24} {f.mismatch_share:>9.1%} {f.missing_online:>8} "
            f"{num(f.mean_difference):>11} {num(f.max_abs_difference):>11}{mark}"
        )
    skewed = report.skewed()
    typer.echo(
        f"{len(skewed)} of {len(report.features)} features skewed"
        + (f": {', '.join(f.feature for f in skewed)}" if skewed else "")
    )
