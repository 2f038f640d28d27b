"""Blocking calls to the collector for history: batches of past predictions and labels, and
baselines. Unlike the serving path (a bounded queue shipped in the background, which drops
events when the collector is slower than the producer), these calls send large batches on the
caller's thread, retry what may succeed later, and return only once every row was
acknowledged — or raise :class:`~keeneye.errors.CollectorError`. A replay of history through
them stores every row.
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
import pyarrow as pa

from keeneye.errors import CollectorError, InputError
from keeneye.sdk import records
from keeneye.sdk.transport import (
    backoff_delay,
    encode_label,
    encode_prediction,
    retryable,
)

#: Events per request of a backfill (the collector accepts up to ``server.max_batch_events``).
DEFAULT_BATCH = 5_000


@dataclass(frozen=True)
class BatchReport:
    """What the collector acknowledged for one ``log_batch``/``log_labels`` call.

    ``event_ids`` are the ids of the rows, in input order (generated ones included).
    ``stored`` counts new rows, ``duplicates`` rows already stored (a harmless repeat),
    ``replaced`` labels that replaced an earlier one, ``pending`` labels whose prediction is
    not stored yet.
    """

    event_ids: tuple[str, ...]
    stored: int
    duplicates: int = 0
    replaced: int = 0
    pending: int = 0
    requests: int = 0


def epochs(values: Any, n: int, default: Callable[[], float]) -> list[float]:
    """Epoch seconds of ``n`` timestamps: aware datetimes, pandas Timestamps, numpy
    datetime64 (taken as UTC), epoch seconds, or ``None`` (every row now).

    >>> from datetime import timezone
    >>> epochs([datetime(1970, 1, 2, tzinfo=timezone.utc), 5], 2, lambda: 0.0)
    [86400.0, 5.0]
    >>> epochs(np.array(["1970-01-01T00:00:10"], dtype="datetime64[s]"), 1, lambda: 0.0)
    [10.0]
    """
    if values is None:
        now = default()
        return [now] * n
    if isinstance(values, pa.ChunkedArray | pa.Array):
        values = values.to_pylist()
    array = np.asarray(values) if not isinstance(values, list) else None
    if array is not None and np.issubdtype(array.dtype, np.datetime64):
        micro = array.astype("datetime64[us]").astype(np.int64)
        out = [float(v) / 1e6 for v in micro.tolist()]
    else:
        listed = list(values)
        out = [_epoch(v) for v in listed]
    if len(out) != n:
        raise InputError(f"timestamps has {len(out)} values for {n} rows; give one per row")
    return out


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InputError(
                f"timestamp {value.isoformat()} has no timezone; pass aware datetimes "
                "(e.g. with tzinfo=timezone.utc) or epoch seconds"
            )
        return value.timestamp()
    value = records.scalar(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise InputError(f"timestamp {value!r} must be an aware datetime or epoch seconds")


def event_ids_of(values: Any, n: int, new_id: Callable[[], str]) -> list[str]:
    """The given ids as strings (one per row), or new ones."""
    if values is None:
        return [new_id() for _ in range(n)]
    if isinstance(values, pa.ChunkedArray | pa.Array):
        values = values.to_pylist()
    ids = [str(records.scalar(v)) for v in values]
    if len(ids) != n:
        raise InputError(f"event_ids has {len(ids)} values for {n} rows; give one per row")
    if any(not i for i in ids):
        raise InputError("event_ids must be non-empty strings")
    return ids


def values_of(values: Any, n: int | None, what: str) -> list[Any]:
    """One scalar per row from a list, numpy array, pandas/polars Series or Arrow array
    (``n``: the number of rows expected, ``None``: any)."""
    if isinstance(values, pa.ChunkedArray | pa.Array):
        listed = values.to_pylist()
    else:
        found = records._as_list(values)
        if found is None:
            raise InputError(
                f"{what} of type {type(values).__name__}: pass a list, an array or a Series"
            )
        listed = found
    if n is not None and len(listed) != n:
        raise InputError(f"{what} has {len(listed)} values for {n} rows; give one per row")
    return [records.scalar(v) for v in listed]


class Sender:
    """Posts encoded events in batches and waits for each acknowledgement."""

    def __init__(
        self,
        url: str,
        model: str,
        version: str,
        token: str | None,
        *,
        timeout: float,
        max_retries: int = 8,
        backoff: tuple[float, float] = (0.2, 10.0),
        rng: random.Random | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.model = model
        self.version = version
        self.max_retries = max_retries
        self.backoff = backoff
        self.rng = rng or random.Random()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # Backfill requests are large: the collector may take a while to commit them.
        self.client = httpx.Client(base_url=self.url, headers=headers, timeout=max(timeout, 60.0))

    def close(self) -> None:
        self.client.close()

    def predictions(
        self, items: Sequence[tuple[Any, ...]], batch_size: int
    ) -> tuple[int, int, int]:
        """Send prediction items; return (stored, duplicates, requests)."""
        path = f"/v1/models/{quote(self.model, safe='')}/predictions"
        head = b'{"version":' + _json_string(self.version) + b',"events":['
        stored = duplicates = requests = 0
        for chunk in _chunks(items, batch_size):
            parts = [encode_prediction(item, self.version) for item in chunk]
            for answer in self._post(path, parts, head):
                stored += int(answer.get("stored", 0))
                duplicates += int(answer.get("duplicates", 0))
                requests += 1
        return stored, duplicates, requests

    def labels(self, items: Sequence[tuple[Any, ...]], batch_size: int) -> tuple[int, int, int]:
        """Send label items; return (stored, replaced, pending) — requests are not counted."""
        path = f"/v1/models/{quote(self.model, safe='')}/labels"
        stored = replaced = pending = 0
        for chunk in _chunks(items, batch_size):
            parts = [encode_label(item) for item in chunk]
            for answer in self._post(path, parts, b'{"labels":['):
                stored += int(answer.get("stored", 0))
                replaced += int(answer.get("replaced", 0))
                pending += int(answer.get("pending", 0))
        return stored, replaced, pending

    def _post(self, path: str, parts: list[bytes], head: bytes) -> list[dict[str, Any]]:
        """Post one batch (split in halves on 413); the collector's answers."""
        pending = [parts]
        answers: list[dict[str, Any]] = []
        while pending:
            batch = pending.pop(0)
            body = head + b",".join(batch) + b"]}"
            response = self._attempt(path, body, len(batch))
            if response is None:  # 413: too large, send the halves
                half = len(batch) // 2
                pending[:0] = [batch[:half], batch[half:]]
                continue
            answers.append(response)
        return answers

    def _attempt(self, path: str, body: bytes, n: int) -> dict[str, Any] | None:
        attempt = 0
        while True:
            try:
                response = self.client.post(
                    path, content=body, headers={"Content-Type": "application/json"}
                )
            except httpx.TransportError as exc:
                problem = f"could not reach the collector at {self.url}: {type(exc).__name__}"
                status = None
            else:
                status = response.status_code
                if status < 300:
                    answer: dict[str, Any] = response.json()
                    return answer
                if status == 413 and n > 1:
                    return None
                problem = f"HTTP {status}: {_message(response)}"
                if not retryable(status):
                    raise CollectorError(
                        f"collector refused {n} rows of {self.model!r} ({problem})", status=status
                    )
            if attempt >= self.max_retries:
                raise CollectorError(
                    f"{n} rows of {self.model!r} not acknowledged after {attempt + 1} attempts "
                    f"({problem}); is `keeneye server` running?",
                    status=status,
                )
            time.sleep(backoff_delay(attempt, *self.backoff, self.rng))
            attempt += 1


def upload_baseline(
    url: str,
    model: str,
    version: str,
    table: Any,
    token: str | None,
    *,
    timeout: float,
) -> dict[str, Any]:
    """``PUT`` a baseline (Arrow table, pandas/polars DataFrame, or a list of records) as
    Parquet; returns the collector's answer (rows, columns, digest …)."""
    import pyarrow.parquet as pq

    arrow = as_table(table)
    sink = io.BytesIO()
    pq.write_table(arrow, sink)
    headers = {"Content-Type": "application/vnd.apache.parquet"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    target = (
        f"{url.rstrip('/')}/v1/models/{quote(model, safe='')}/versions/"
        f"{quote(version, safe='')}/baseline"
    )
    try:
        response = httpx.put(
            target, content=sink.getvalue(), headers=headers, timeout=max(timeout, 60.0)
        )
    except httpx.HTTPError as exc:
        raise CollectorError(
            f"could not reach the collector at {url} to register the baseline of {model!r} "
            f"v{version}: {type(exc).__name__}; is `keeneye server` running?"
        ) from exc
    if response.status_code >= 300:
        raise CollectorError(
            f"collector refused the baseline of {model!r} v{version} "
            f"(HTTP {response.status_code}): {_message(response)}",
            status=response.status_code,
        )
    answer: dict[str, Any] = response.json()
    return answer


def register_source(
    url: str,
    model: str,
    version: str,
    source: str,
    token: str | None,
    *,
    timeout: float,
) -> dict[str, Any]:
    """Have the collector read a source URI (``dvc://…``) and register it as the baseline."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    target = (
        f"{url.rstrip('/')}/v1/models/{quote(model, safe='')}/versions/"
        f"{quote(version, safe='')}/baseline/source"
    )
    try:
        response = httpx.put(
            target, json={"source": source}, headers=headers, timeout=max(timeout, 300.0)
        )
    except httpx.HTTPError as exc:
        raise CollectorError(
            f"could not reach the collector at {url} to register {source} for {model!r} "
            f"v{version}: {type(exc).__name__}; is `keeneye server` running?"
        ) from exc
    if response.status_code >= 300:
        raise CollectorError(
            f"collector refused the baseline {source} of {model!r} v{version} "
            f"(HTTP {response.status_code}): {_message(response)}",
            status=response.status_code,
        )
    answer: dict[str, Any] = response.json()
    return answer


def as_table(data: Any) -> pa.Table:
    """An Arrow table from a table, a pandas/polars DataFrame or a list of records."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, list):
        if not all(isinstance(r, dict) for r in data):
            raise InputError("a baseline given as a list must be a list of records (dicts)")
        return pa.Table.from_pylist(data)
    to_arrow = getattr(data, "to_arrow", None)
    if callable(to_arrow):  # polars
        table = to_arrow()
        if isinstance(table, pa.Table):
            return table
    try:
        return pa.Table.from_pandas(data, preserve_index=False)
    except (TypeError, AttributeError, pa.ArrowException) as exc:
        raise InputError(
            f"a baseline of type {type(data).__name__}: pass a pyarrow Table, a pandas or "
            "polars DataFrame, or a list of records"
        ) from exc


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _json_string(value: str) -> bytes:
    import json

    return json.dumps(value).encode()


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except Exception:
        return response.text[:300]


__all__ = ["DEFAULT_BATCH", "BatchReport", "Sender", "as_table", "epochs", "upload_baseline"]
