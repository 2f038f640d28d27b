"""What the CLI commands share to work against a running server (``--url``) — the embedded
DuckDB file has one writer, so with ``keeneye server`` running every change goes through it —
and the check that a ``--store`` path exists before a command opens it."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from keeneye.errors import InputError, KeeneyeError

#: Seconds between two polls of a running analysis job.
POLL_SECONDS = 0.5


def check_store(location: str, *, create: bool) -> None:
    """Refuse a store file that does not exist (a typo would otherwise create an empty store
    and report "no models") unless ``create``; URLs of server stores are not checked."""
    text = str(location)
    scheme, sep, rest = text.partition("://")
    if sep and scheme != "duckdb":
        return
    path = rest if sep else text
    if not path or path == ":memory:" or create or Path(path).exists():
        return
    raise InputError(
        f"store file {path!r} does not exist; check --store (or server.store), pass --create "
        "to start a new store there, or --url of a running keeneye server"
    )


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:300]


def _call(
    method: str,
    url: str,
    token: str | None,
    *,
    content_type: str | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    headers = _headers(token)
    if content_type is not None:
        headers["Content-Type"] = content_type
    try:
        response = httpx.request(method, url, headers=headers, **kwargs)
    except httpx.HTTPError as exc:
        raise KeeneyeError(
            f"cannot reach the keeneye server at {url}: {type(exc).__name__}; is `keeneye "
            "server` running there?"
        ) from exc
    if response.status_code >= 300:
        message = f"{method} {url} answered {response.status_code}: {_message(response)}"
        # the server refused the input (400, 404, 413, 422): the user's to fix
        if response.status_code in (400, 404, 413, 415, 422):
            raise InputError(message)
        raise KeeneyeError(message)
    body: dict[str, Any] = response.json()
    return body


def upload_baseline(
    url: str, model: str, version: str, path: Path, token: str | None
) -> dict[str, Any]:
    """Read a training-data file here and register it through the server."""
    import io

    import pyarrow.parquet as pq

    from keeneye.tables import load_table

    loaded = load_table(path, role="baseline")
    if loaded.unconvertible:
        column, problem = next(iter(sorted(loaded.unconvertible.items())))
        raise InputError(f"column {column!r}: {problem}; a baseline column needs one type")
    table = loaded.table
    sink = io.BytesIO()
    pq.write_table(table, sink)
    target = (
        f"{url.rstrip('/')}/v1/models/{quote(model, safe='')}/versions/"
        f"{quote(version, safe='')}/baseline"
    )
    return _call(
        "PUT",
        target,
        token,
        content=sink.getvalue(),
        timeout=300,
        content_type="application/vnd.apache.parquet",
    )


def register_source(
    url: str, model: str, version: str, source: str, token: str | None
) -> dict[str, Any]:
    """Have the server read a source URI (``dvc://…``) and register it as the baseline."""
    target = (
        f"{url.rstrip('/')}/v1/models/{quote(model, safe='')}/versions/"
        f"{quote(version, safe='')}/baseline/source"
    )
    return _call("PUT", target, token, json={"source": source}, timeout=300)


def run_analysis(
    url: str,
    token: str | None,
    *,
    since: datetime | None,
    until: datetime | None,
    backfill: bool,
    models: list[str] | None,
    console: Console,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Start an analysis job on the server and follow it with a progress bar; return the
    finished job (its ``result`` is the run's summary)."""
    base = url.rstrip("/")
    body = {
        "since": None if since is None else since.isoformat(),
        "until": None if until is None else until.isoformat(),
        "backfill": backfill,
        "models": models,
    }
    job = _call("POST", f"{base}/v1/analysis/jobs", token, json=body, timeout=30)
    deadline = None if timeout is None else time.monotonic() + timeout
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
        while job["state"] not in ("done", "failed"):
            if deadline is not None and time.monotonic() > deadline:
                raise KeeneyeError(f"analysis job {job['id']} still running after {timeout} s")
            time.sleep(POLL_SECONDS)
            job = _call("GET", f"{base}/v1/analysis/jobs/{job['id']}", token, timeout=30)
            bar.update(
                task,
                completed=job.get("done") or 0,
                total=job.get("total"),
                description=str(job.get("current") or ""),
            )
    if job["state"] == "failed":
        raise KeeneyeError(f"the server's analysis run failed: {job.get('error')}")
    return job


__all__ = ["check_store", "run_analysis", "upload_baseline"]


def fetch_skew(
    url: str, model: str, version: str, sample: int, token: str | None
) -> dict[str, Any]:
    """Have the server compare the version's Feast features online and offline."""
    target = (
        f"{url.rstrip('/')}/v1/models/{quote(model, safe='')}/versions/"
        f"{quote(version, safe='')}/skew"
    )
    return _call("GET", target, token, params={"sample": sample}, timeout=300)
