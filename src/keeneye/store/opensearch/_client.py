"""Requests to the cluster that move many documents: bulk writes acknowledged per item, and
whole-window reads by scroll.

:func:`bulk` sends ``(action, source)`` pairs as one NDJSON body (built with ``orjson``; the
response stripped to each item's status by ``filter_path``) and retries only the items that
failed transiently (``429``, ``5xx``) with backoff; it raises
:class:`~keeneye.errors.StoreError` when an item is refused or still failing, so a caller
acknowledges nothing that is not stored.

:func:`scroll_pages` reads every hit of a query in index order (``_doc``, the order a scroll
serves fastest: no sort, no re-scan per page) from a consistent snapshot, 10,000 hits a page,
only the fields asked for (``filter_path``), and fetches the next page while the caller turns
the current one into columns. Callers sort what they need in Arrow.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson
from opensearchpy import OpenSearch
from opensearchpy.exceptions import OpenSearchException, TransportError

from keeneye.errors import StoreError

RETRYABLE = frozenset({429, 500, 502, 503, 504})
PAGE = 10_000  # the most a page may hold (index.max_result_window)
KEEP_ALIVE = "2m"

Op = tuple[dict[str, Any], dict[str, Any] | None]


@dataclass(frozen=True)
class BulkItem:
    """What the cluster answered for one bulk operation."""

    status: int
    result: str | None
    error: str | None


def describe(exc: Exception) -> str:
    """An error for messages: HTTP status and error type, never the request (credentials)."""
    if isinstance(exc, TransportError):
        return f"HTTP {exc.status_code} {exc.error}"
    return type(exc).__name__


def _ndjson(ops: Sequence[Op], pending: Sequence[int]) -> bytes:
    lines: list[bytes] = []
    for i in pending:
        action, source = ops[i]
        lines.append(orjson.dumps(action))
        if source is not None:
            lines.append(orjson.dumps(source))
    lines.append(b"")
    return b"\n".join(lines)


def _item(answer: dict[str, Any]) -> BulkItem:
    (result,) = answer.values()
    error = result.get("error")
    reason = None
    if error is not None:
        reason = (
            f"{error.get('type')}: {error.get('reason')}" if isinstance(error, dict) else str(error)
        )
    return BulkItem(int(result.get("status", 500)), result.get("result"), reason)


def bulk(
    client: OpenSearch,
    ops: Sequence[Op],
    *,
    refresh: bool = False,
    max_retries: int = 6,
    request_timeout: float = 60.0,
) -> list[BulkItem]:
    """Send ``ops``; retry items that failed transiently; return one result per op."""
    results: list[BulkItem | None] = [None] * len(ops)
    pending = list(range(len(ops)))
    delay = 0.1
    for attempt in range(max_retries + 1):
        try:
            # A shard without an active copy fails its items after 10 s (then retried here)
            # instead of holding the whole request for the server's default minute.
            # (``request_timeout`` set too: opensearch-py would take ``timeout`` for it.)
            response = client.bulk(
                body=_ndjson(ops, pending),
                refresh="true" if refresh else "false",
                timeout="10s",
                request_timeout=request_timeout,
                filter_path="items.*.status,items.*.result,items.*.error",
            )
        except (TransportError, OpenSearchException) as exc:
            status = getattr(exc, "status_code", None)
            if isinstance(status, int) and status not in RETRYABLE:
                raise StoreError(f"OpenSearch refused a bulk request (HTTP {status})") from exc
            if attempt == max_retries:
                raise StoreError(
                    f"OpenSearch bulk request failed after {attempt + 1} attempts: "
                    f"{type(exc).__name__}"
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
            continue
        retry: list[int] = []
        for i, answer in zip(pending, response["items"], strict=True):
            item = results[i] = _item(answer)
            if item.status in RETRYABLE:
                retry.append(i)
        answered = [r for r in (results[i] for i in pending) if r is not None]
        fatal = [
            r
            for r in answered
            if r.status >= 400 and r.status not in RETRYABLE and r.status not in (404, 409)
        ]
        if fatal:
            first = fatal[0]
            raise StoreError(
                f"OpenSearch refused {len(fatal)} of {len(ops)} items (HTTP {first.status}: "
                f"{(first.error or '')[:300]})"
            )
        if not retry:
            break
        if attempt == max_retries:
            first_retry = results[retry[0]]
            status_text = "?" if first_retry is None else str(first_retry.status)
            raise StoreError(
                f"OpenSearch did not store {len(retry)} of {len(ops)} items after "
                f"{attempt + 1} attempts (HTTP {status_text}); nothing acknowledged"
            )
        pending = retry
        time.sleep(delay)
        delay = min(delay * 2, 2.0)
    return [r for r in results if r is not None]


def scroll_pages(
    client: OpenSearch,
    names: Sequence[str],
    query: dict[str, Any],
    source: Sequence[str] | bool,
    *,
    meta: bool = False,
) -> Iterator[list[dict[str, Any]]]:
    """Pages of hits of ``query`` over the indices ``names``, in index order. Each hit has
    ``_source`` (the ``source`` fields; ``True`` for all, cheapest for the server), and
    ``_index``/``_id`` when ``meta``. The scroll is cleared when the caller stops."""
    keep = ["_scroll_id", "hits.hits._source"] + (["hits.hits._index", "hits.hits._id"] * meta)
    filter_path = ",".join(keep)
    chosen: list[str] | bool = source if isinstance(source, bool) else list(source)
    body: dict[str, Any] = {"size": PAGE, "query": query, "sort": ["_doc"], "_source": chosen}

    def first() -> dict[str, Any]:
        response: dict[str, Any] = client.search(
            index=",".join(names),
            body=body,
            scroll=KEEP_ALIVE,
            ignore_unavailable=True,
            allow_no_indices=True,
            filter_path=filter_path,
        )
        return response

    def following(scroll_id: str) -> dict[str, Any]:
        response: dict[str, Any] = client.scroll(
            body={"scroll_id": scroll_id, "scroll": KEEP_ALIVE}, filter_path=filter_path
        )
        return response

    scroll_ids: list[str] = []
    with ThreadPoolExecutor(1, thread_name_prefix="keeneye-scroll") as pool:
        pending: Future[dict[str, Any]] | None = pool.submit(first)
        try:
            while pending is not None:
                try:
                    page = pending.result()
                except OpenSearchException as exc:
                    raise StoreError(f"OpenSearch window read failed: {describe(exc)}") from exc
                pending = None
                scroll_id = page.get("_scroll_id")
                if scroll_id is not None and scroll_id not in scroll_ids:
                    scroll_ids.append(scroll_id)
                hits: list[dict[str, Any]] = page.get("hits", {}).get("hits", [])
                if len(hits) == PAGE and scroll_id is not None:
                    pending = pool.submit(following, scroll_id)  # fetched while we convert
                if hits:
                    yield hits
        finally:
            if pending is not None:
                try:
                    late = pending.result()
                    if late.get("_scroll_id") and late["_scroll_id"] not in scroll_ids:
                        scroll_ids.append(late["_scroll_id"])
                except OpenSearchException:
                    pass
            if scroll_ids:
                with contextlib.suppress(OpenSearchException):  # else it expires by itself
                    client.clear_scroll(body={"scroll_id": scroll_ids})
