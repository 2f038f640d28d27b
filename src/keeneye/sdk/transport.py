"""Ship queued events to the collector from one background thread.

The caller's thread only appends a tuple to a bounded queue (a length check and a deque
append, no lock unless the queue was empty, is full or a batch is complete; no I/O, no
encoding). A daemon thread takes batches — when ``batch_size`` events are waiting, when the
oldest waiting event is ``flush_interval`` seconds old, or when someone flushes — and encodes
them; a second one POSTs them with a keep-alive ``httpx.Client``. The next batch is encoded
while the previous request is in flight (one encoded batch waits at most), so the collector's
time and the SDK's own do not add up. When more than ``batch_size`` events wait
(the collector is slower than the predictions), a request takes up to ``max_batch_size``:
each request has a fixed cost at the collector, so fewer, larger ones let it catch up.

Encoding is negotiated: a collector that reads MessagePack says so in the
``Keeneye-Accept-Formats`` header of its answers, and from then on batches are sent as
MessagePack (:mod:`keeneye.sdk.wire`, when ``msgpack`` is installed) — smaller and several times
cheaper to encode and to parse. An older collector never sends the header and keeps getting
JSON; a MessagePack batch refused as unreadable (415, or 400 ``invalid_json``) is re-sent as
JSON and the transport stays with JSON.

Failures:

* connection errors, timeouts, 408, 429 and 5xx are retried (the loop is tenacity's) with
  exponential backoff and full jitter (:func:`backoff_delay`), at least ``Retry-After``, up to
  ``max_retries`` times (``None``: until it works or the monitor is closed). Meanwhile new
  events fill the queue; once it is full they are dropped and counted (``queue_full``).
  Retried events keep their ids, so a batch that was stored but not acknowledged is a
  harmless duplicate.
* 413 splits the batch in halves; any other 4xx drops it (``rejected``) and logs the collector's
  message once per distinct message.

Every event offered is accounted for: ``offered == sent + dropped + pending`` (see
:meth:`Transport.stats`).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import random
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import repeat
from operator import itemgetter
from typing import Any
from urllib.parse import quote

import httpx
import tenacity

from keeneye.sdk import wire
from keeneye.sdk.metrics import DROP_REASONS, ModelMetrics

log = logging.getLogger("keeneye.sdk")


def retryable(status: int) -> bool:
    """Whether the same request may succeed later: 408, 429 and every 5xx (the contract).

    >>> [retryable(s) for s in (408, 429, 500, 503, 400, 401, 413)]
    [True, True, True, True, False, False, False]
    """
    return status >= 500 or status in (408, 429)


#: ``(outcome, event_ids)``: outcome is ``"sent"`` or a drop reason.
DeliveryCallback = Callable[[str, Sequence[str]], None]

# A queued prediction: ("p", event_id, timestamp, inputs, prediction, probabilities, latency)
# A queued label:      ("l", event_id, timestamp, label)
Item = tuple[Any, ...]


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds before retry ``attempt + 1``: full jitter, ``U(0, min(cap, base·2^attempt))``.

    Full jitter spreads the retries of many clients that failed together (AWS architecture
    blog, "Exponential Backoff And Jitter").

    >>> rng = random.Random(0)
    >>> [round(backoff_delay(a, 0.1, 1.0, rng), 3) for a in range(6)]
    [0.084, 0.152, 0.168, 0.207, 0.511, 0.405]
    """
    return rng.uniform(0.0, min(cap, base * (2.0**attempt)))


def batch_due(
    queued: int, oldest_age: float, *, batch_size: int, flush_interval: float, forced: bool
) -> bool:
    """Whether the sender should take a batch now.

    >>> batch_due(3, 0.2, batch_size=500, flush_interval=1.0, forced=False)
    False
    >>> batch_due(3, 1.0, batch_size=500, flush_interval=1.0, forced=False)
    True
    """
    if queued == 0:
        return False
    return forced or queued >= batch_size or oldest_age >= flush_interval


def _json_default(value: Any) -> Any:
    """Encode the non-JSON types that predict functions commonly produce."""
    item = getattr(value, "item", None)
    if item is not None and type(value).__module__.startswith("numpy"):
        if getattr(value, "ndim", 0) == 0:
            return item()  # numpy scalar → Python number / bool
        return value.tolist()  # an array feature (embedding)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    raise TypeError(f"a value of type {type(value).__name__} is not JSON serialisable")


# Python's json emits NaN / Infinity literals, which the contract asks for; its C encoder is the
# fast path (allow_nan is the default, stated here because the contract depends on it).
_encoder = json.JSONEncoder(allow_nan=True, default=_json_default, separators=(",", ":"))

_SCALAR_TYPES = (str, int, float, bool, type(None))
_KIND = itemgetter(0)  # a queued item's kind: "p" (prediction) or "l" (label)
_YIELD_EVERY = 16  # events JSON-encoded between two GIL hand-overs (~100 µs of encoding)
_COUNT_EVERY = 0.25  # seconds between two countings of the metrics during a backoff
_SLOW_HANDOVER = 0.001  # seconds: a hand-over this long means a caller runs flat out


class _Yielder:
    """Hands the GIL to the predicting threads now and then while a batch is encoded.

    Otherwise a caller waking up mid-batch waits for the 5 ms switch interval (a latency
    spike). But when a caller runs flat out (never waiting for I/O), each hand-over costs the
    sender a whole switch interval and the queue overflows; the interpreter's own switching
    already shares the time then. So once a hand-over took longer than ``_SLOW_HANDOVER``, the
    rest of the batch is encoded without yielding.
    """

    __slots__ = ("active",)

    def __init__(self) -> None:
        self.active = True

    def __call__(self) -> None:
        if self.active:
            started = time.perf_counter()
            time.sleep(0)
            if time.perf_counter() - started > _SLOW_HANDOVER:
                self.active = False


#: The collector's response header naming the body formats it reads.
FORMATS_HEADER = "Keeneye-Accept-Formats"
JSON, MSGPACK = "json", "msgpack"
_CONTENT_TYPES = {JSON: "application/json", MSGPACK: wire.MEDIA_TYPE}
#: Error codes with which a collector says it could not read the body's format.
_UNREADABLE = frozenset({"invalid_json", "invalid_msgpack", "unsupported_media_type"})


def encode_prediction(item: Item, version: str) -> bytes:
    """One prediction event as contract JSON (``version`` is sent once per batch, not here).

    >>> encode_prediction(("p", "e1", 1.5, {"x": float("nan")}, 0.5, None, 0.001), "3")
    b'{"event_id":"e1","timestamp":1.5,"inputs":{"x":NaN},"prediction":0.5,"latency_seconds":0.001}'
    """
    return _encoder.encode(prediction_document(item)).encode()


def prediction_document(item: Item) -> dict[str, Any]:
    """The contract's event object of a queued prediction (before encoding)."""
    _, event_id, timestamp, inputs, prediction, probabilities, latency = item
    if not isinstance(prediction, _SCALAR_TYPES):
        numpy_scalar = type(prediction).__module__.startswith("numpy") and (
            getattr(prediction, "ndim", 1) == 0
        )
        if numpy_scalar:
            prediction = prediction.item()
        if not isinstance(prediction, _SCALAR_TYPES):
            raise TypeError(
                f"prediction {prediction!r} is not a number, string, bool or null; "
                "log one scalar prediction per event"
            )
    event: dict[str, Any] = {
        "event_id": event_id,
        "timestamp": timestamp,
        "inputs": inputs,
        "prediction": prediction,
    }
    if probabilities is not None:
        event["probabilities"] = probabilities
    if latency is not None:
        event["latency_seconds"] = latency
    return event


def encode_label(item: Item) -> bytes:
    """One label as contract JSON.

    >>> encode_label(("l", "e1", 2.0, "yes"))
    b'{"event_id":"e1","label":"yes","timestamp":2.0}'
    """
    _, event_id, timestamp, label = item
    return _encoder.encode({"event_id": event_id, "label": label, "timestamp": timestamp}).encode()


@dataclass
class _Request:
    kind: str  # "predictions" | "labels"
    items: list[Item]  # the queued events, to split or re-encode in another format
    body: bytes
    format: str = JSON


class Transport:
    """The bounded queue and the background sender of one :class:`~keeneye.Monitor`."""

    def __init__(
        self,
        *,
        url: str,
        model: str,
        version: str,
        token: str | None,
        metrics: ModelMetrics,
        queue_size: int,
        batch_size: int,
        flush_interval: float,
        max_batch_size: int = 10_000,
        timeout: float,
        max_retries: int | None,
        backoff_base: float,
        backoff_cap: float,
        rng: random.Random,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.version = version
        self._paths = {
            kind: f"/v1/models/{quote(model, safe='')}/{kind}" for kind in ("predictions", "labels")
        }
        self._headers = {"Content-Type": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._metrics = metrics
        self._maxsize = queue_size
        self._batch_size = batch_size
        self._max_take = max(batch_size, max_batch_size)
        self._flush_interval = flush_interval
        self._timeout = timeout
        self._max_retries = max_retries
        self._backoff = (backoff_base, backoff_cap)
        self._rng = rng
        self._on_delivery = on_delivery
        self._closed = False
        self._format = JSON  # MSGPACK once the collector says it reads it
        self._init_state()
        metrics.instruments.add_queue_source(model, version, self)
        _live.add(self)

    def _init_state(self) -> None:
        """Fresh queue, lock and (not yet started) thread — at creation and in a forked child."""
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._queue: deque[Item] = deque()
        self._oldest = 0.0  # monotonic time the queue last became non-empty
        self._backlog = False  # a batch left events behind: send them without waiting
        self._inflight = 0
        self._flushers = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None  # takes and encodes batches
        self._poster: threading.Thread | None = None  # sends them
        # encoded requests and how many events they still account for; None: no more
        self._handoff: queue.Queue[tuple[list[_Request], int] | None] = queue.Queue(maxsize=1)
        self._local = threading.local()  # events each sender thread resolved (accounting)
        self._client: httpx.Client | None = None
        self._sampled_out = 0
        self._sent = 0
        self._dropped = dict.fromkeys(DROP_REASONS, 0)
        self._seen_errors: set[str] = set()
        self._failing = False

    # ---- caller side -------------------------------------------------------------------

    def put(self, item: Item) -> bool:
        """Queue one event without blocking; False (and counted) when it was dropped.

        ``queue_size`` bounds the events queued and in flight (up to three batches: one being
        encoded, one encoded, one being sent). No lock on the common path: ``deque.append`` is
        atomic, and the sender is woken (under the lock, so the wake-up cannot be missed) only
        when a batch is complete. It never waits longer than ``flush_interval``, so an event in
        an otherwise empty queue leaves when it is that old without a wake-up. Concurrent
        callers may overfill the queue by at most one event each.
        """
        queue = self._queue
        n = len(queue)
        if n + self._inflight >= self._maxsize or self._closed:  # queue_size bounds both
            self.drop("shutdown" if self._closed else "queue_full", 1)
            return False
        if n == 0:
            self._oldest = time.monotonic()  # before the append: the sender never sees it old
        queue.append(item)
        if n + 1 == self._batch_size or self._thread is None:
            with self._cond:
                if self._thread is None:
                    self._start_locked()
                self._cond.notify()
        return True

    def drop(self, reason: str, count: int) -> None:
        """Account for ``count`` events that never reached the queue."""
        with self._lock:
            self._drop_locked(reason, count)

    def note_sampled_out(self, count: int) -> None:
        """Account for events left out by sampling (not offered, not dropped)."""
        with self._lock:
            self._sampled_out += count

    def __len__(self) -> int:
        """Events queued or being delivered (the ``keeneye_sdk_queue_events`` gauge)."""
        return len(self._queue) + self._inflight

    def stats(self) -> dict[str, Any]:
        """A snapshot: ``offered == sent + sum(dropped) + pending``.

        Every event offered is in exactly one of those states, so ``offered`` is their sum
        (counting it on the predicting thread would need a lock there).
        """
        with self._lock:
            dropped = dict(self._dropped)
            pending = len(self._queue) + self._inflight
            return {
                "offered": self._sent + sum(dropped.values()) + pending,
                "sent": self._sent,
                "dropped": dropped,
                "pending": pending,
                "sampled_out": self._sampled_out,
            }

    def flush(self, timeout: float | None = None) -> bool:
        """Send everything queued now; True when all of it was delivered or dropped in time."""
        if threading.current_thread() in (self._thread, self._poster):
            return False  # called from on_delivery: waiting for ourselves would never end
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            if self._thread is None and (self._queue or self._inflight):
                self._start_locked()
            self._flushers += 1
            self._cond.notify_all()
            try:
                while self._queue or self._inflight:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    self._cond.wait(remaining)
                return True
            finally:
                self._flushers -= 1

    def close(self, timeout: float | None = 5.0) -> None:
        """Flush for up to ``timeout`` seconds, then stop; what is left is dropped as shutdown."""
        if self._closed:
            return
        start = time.monotonic()
        self.flush(timeout)
        with self._cond:
            self._closed = True
            left = len(self._queue)
            self._queue.clear()
            self._drop_locked("shutdown", left)
            self._stop.set()
            self._cond.notify_all()
            threads = (self._thread, self._poster)
        for thread in threads:
            if thread is not None and thread is not threading.current_thread():
                spent = time.monotonic() - start
                wait = None if timeout is None else max(1.0, timeout - spent)
                thread.join(wait)
        with self._cond:  # a put that raced with closing (it saw the transport open)
            late = len(self._queue)
            self._queue.clear()
            self._drop_locked("shutdown", late)
        _live.discard(self)

    # ---- sender side -------------------------------------------------------------------

    def _start_locked(self) -> None:
        self._poster = threading.Thread(target=self._post_all, name="keeneye-sender-http")
        self._poster.daemon = True
        self._poster.start()
        thread = threading.Thread(target=self._run, name="keeneye-sender", daemon=True)
        self._thread = thread
        thread.start()

    def _abandon(self, count: int) -> None:
        """Account for in-flight events lost to an unexpected error (a bug, logged)."""
        with self._cond:
            self._inflight -= count
            self._drop_locked("internal_error", count)
            self._cond.notify_all()

    def _drop_locked(self, reason: str, count: int) -> None:
        if count:
            self._dropped[reason] += count
            self._metrics.count_dropped(reason, count)

    def _take_batch(self) -> list[Item] | None:
        """Wait until a batch is due and take it; None when the transport is closing."""
        with self._cond:
            while not self._closed:
                n = len(self._queue)
                age = time.monotonic() - self._oldest
                forced = self._backlog or self._flushers > 0
                if batch_due(
                    n,
                    age,
                    batch_size=self._batch_size,
                    flush_interval=self._flush_interval,
                    forced=forced,
                ):
                    take = min(n, self._max_take)  # batch_size unless events piled up
                    self._inflight += take  # first: put() never sees these events nowhere
                    # popleft mapped in C: no bytecode per event, so the GIL is held for
                    # microseconds (a comprehension held it ~40 ns per event, and a caller
                    # waking up meanwhile waited for it: the latency tail)
                    batch = list(map(deque.popleft, repeat(self._queue, take)))
                    self._backlog = bool(self._queue)
                    if self._queue:
                        self._oldest = time.monotonic()
                    return batch
                # Never an unbounded wait: a put racing with the last take may not notify.
                self._cond.wait(self._flush_interval - age if n else self._flush_interval)
            return None

    def _run(self) -> None:
        """Take, count and encode batches; hand them to the poster (blocks while it is busy)."""
        try:
            while True:
                batch = self._take_batch()
                if batch is None:
                    break
                self._local.resolved = 0
                try:
                    # count the predictions off the callers' threads
                    self._metrics.apply_pending(pause=_Yielder())
                    requests = self._encode(batch)
                except Exception:  # a bug here must not kill the sender: count and go on
                    log.exception("keeneye: unexpected error while encoding events")
                    self._abandon(len(batch) - self._local.resolved)
                    continue
                self._handoff.put((requests, len(batch) - self._local.resolved))
        finally:
            self._handoff.put(None)

    def _post_all(self) -> None:
        """Deliver what the encoding thread hands over, one request at a time."""
        while True:
            handed = self._handoff.get()
            if handed is None:
                break
            requests, count = handed
            self._local.resolved = 0
            try:
                for request in requests:
                    self._deliver(request)
            except Exception:  # a bug here must not kill the sender: count and go on
                log.exception("keeneye: unexpected error while sending events")
            finally:
                self._abandon(count - self._local.resolved)  # only non-zero after an error
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _encode(self, batch: list[Item]) -> list[_Request]:
        kinds = list(map(_KIND, batch))  # in C (see _take_batch): usually all predictions
        if kinds.count("p") == len(kinds):
            labels: list[Item] = []
            predictions = batch
        else:
            labels = [item for item in batch if item[0] != "p"]
            predictions = [item for item in batch if item[0] == "p"]
        requests: list[_Request] = []
        for kind, items in (("predictions", predictions), ("labels", labels)):
            if items:
                requests += self._requests(kind, items, self._format)
        return requests

    def _requests(self, kind: str, items: list[Item], fmt: str) -> list[_Request]:
        """``items`` encoded as one request (none if no event could be encoded)."""
        if fmt == MSGPACK:
            try:
                if kind == "predictions":
                    body = wire.prediction_body(self.version, items, _Yielder())
                else:
                    body = wire.label_body(items)
                return [_Request(kind, items, body, MSGPACK)]
            except (TypeError, ValueError, OverflowError, RecursionError):
                pass  # e.g. an int beyond 64 bits: JSON sends it or drops that event alone
        return self._encode_json(kind, items)

    def _encode_json(self, kind: str, items: list[Item]) -> list[_Request]:
        parts: list[bytes] = []
        good: list[Item] = []
        bad = 0
        pause = _Yielder()
        for n, item in enumerate(items, 1):
            if n % _YIELD_EVERY == 0:
                pause()
            try:
                if kind == "predictions":
                    parts.append(encode_prediction(item, self.version))
                else:
                    parts.append(encode_label(item))
                good.append(item)
            except (TypeError, ValueError, RecursionError) as exc:
                bad += 1
                self._log_once(f"keeneye: event {item[1]} dropped, cannot encode it: {exc}")
        if bad:
            self._resolve("serialization", [], bad)
        if not parts:
            return []
        joined = b",".join(parts)
        if kind == "predictions":
            head = _encoder.encode({"version": self.version}).encode()[:-1]
            body = head + b',"events":[' + joined + b"]}"
        else:
            body = b'{"labels":[' + joined + b"]}"
        return [_Request(kind, good, body, JSON)]

    def _resolve(self, outcome: str, items: Sequence[Item], count: int | None = None) -> None:
        n = len(items) if count is None else count
        self._local.resolved = getattr(self._local, "resolved", 0) + n
        with self._lock:
            self._inflight -= n
            if outcome == "sent":
                self._sent += n
                self._metrics.sent.inc(n)
            else:
                self._drop_locked(outcome, n)
        if self._on_delivery is not None and items:
            try:
                self._on_delivery(outcome, [item[1] for item in items])
            except Exception:
                log.exception("keeneye: on_delivery callback failed")

    def _deliver(self, request: _Request) -> None:
        pending = [request]
        while pending:
            req = pending.pop(0)
            outcome = self._attempt(req)
            if outcome == "split":
                half = len(req.items) // 2
                pending[:0] = [
                    *self._requests(req.kind, req.items[:half], req.format),
                    *self._requests(req.kind, req.items[half:], req.format),
                ]
            elif outcome == "reencode":
                # The collector could not read MessagePack: JSON from now on, this batch too.
                pending[:0] = self._encode_json(req.kind, req.items)
            else:
                self._resolve(outcome, req.items)

    def _attempt(self, req: _Request) -> str:
        """Post with retries; the outcome is "sent", "split" or a drop reason.

        tenacity runs the loop; the wait is ours (full jitter from the transport's own rng, at
        least the collector's ``Retry-After``) and so is the sleep: the stop event, so that
        closing the monitor ends a backoff at once."""
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_result(lambda outcome: isinstance(outcome, _Retry)),
            stop=self._give_up,
            wait=self._wait,
            sleep=self._sleep,
            retry_error_callback=lambda state: (
                "shutdown" if self._stop.is_set() else "retries_exhausted"
            ),
            reraise=True,
        )
        outcome = retrying(self._post_once, req, req.body)
        return outcome if isinstance(outcome, str) else "retries_exhausted"

    def _give_up(self, state: tenacity.RetryCallState) -> bool:
        if self._stop.is_set():
            return True
        return self._max_retries is not None and state.attempt_number > self._max_retries

    def _wait(self, state: tenacity.RetryCallState) -> float:
        failed = state.outcome.result() if state.outcome is not None else None
        retry_after = failed.retry_after if isinstance(failed, _Retry) else 0.0
        delay = max(backoff_delay(state.attempt_number - 1, *self._backoff, self._rng), retry_after)
        return min(delay, self._backoff[1])

    def _sleep(self, seconds: float) -> None:
        # The stop event is set by close(): the next attempt returns "shutdown". A backoff can
        # last seconds: the predictions logged meanwhile are counted as it goes.
        deadline = time.monotonic() + seconds
        while not self._stop.is_set():
            self._metrics.apply_pending(pause=_Yielder())
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._stop.wait(min(left, _COUNT_EVERY))

    def _post_once(self, req: _Request, body: bytes) -> str | _Retry:
        """One POST: an outcome, or :class:`_Retry` when the same request may work later."""
        if self._stop.is_set():
            return "shutdown"
        try:
            if self._client is None:
                self._client = httpx.Client(
                    base_url=self.url, headers=self._headers, timeout=self._timeout
                )
            response = self._client.post(
                self._paths[req.kind],
                content=body,
                headers={"Content-Type": _CONTENT_TYPES[req.format]},
            )
        except httpx.TransportError as exc:
            self._note_failure(f"collector at {self.url} unreachable: {type(exc).__name__}")
            return _Retry(0.0)
        status = response.status_code
        if status < 300:
            self._note_recovery()
            self._negotiate(response)
            return "sent"
        if req.format == MSGPACK and status in (400, 415) and _unreadable(response):
            self._format = JSON
            return "reencode"
        if status == 413 and len(req.items) > 1:
            return "split"
        if not retryable(status):
            self._log_once(
                f"keeneye: collector rejected a batch of {req.kind} "
                f"(HTTP {status}): {_error_message(response)}"
            )
            return "rejected"
        self._note_failure(f"collector at {self.url} answered HTTP {status}")
        return _Retry(_retry_after(response))

    def _negotiate(self, response: httpx.Response) -> None:
        """Switch to MessagePack once the collector lists it (and ``msgpack`` is installed)."""
        offered = response.headers.get(FORMATS_HEADER, "")
        if self._format == JSON and wire.MEDIA_TYPE in offered and wire.available():
            self._format = MSGPACK

    def _note_failure(self, message: str) -> None:
        if not self._failing:
            self._failing = True
            log.warning("keeneye: %s; retrying with backoff, events queue meanwhile", message)

    def _note_recovery(self) -> None:
        if self._failing:
            self._failing = False
            log.warning("keeneye: collector at %s reachable again; sending resumed", self.url)

    def _log_once(self, message: str) -> None:
        if message not in self._seen_errors and len(self._seen_errors) < 100:
            self._seen_errors.add(message)
            log.error("%s", message)

    def _after_fork_in_child(self) -> None:
        # The parent's queue, thread and connections are the parent's: the child starts empty
        # and starts its own sender on its first event.
        closed = self._closed
        self._init_state()
        self._closed = closed


@dataclass(frozen=True)
class _Retry:
    """An attempt that may work later, and the collector's ``Retry-After`` (0: none)."""

    retry_after: float


def _error_message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except Exception:
        return response.text[:200]


def _unreadable(response: httpx.Response) -> bool:
    """Whether an error answer says the body's format could not be read."""
    if response.status_code == 415:
        return True
    try:
        return str(response.json()["error"]["code"]) in _UNREADABLE
    except Exception:
        return False


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return 0.0


_live: weakref.WeakSet[Transport] = weakref.WeakSet()


def _reinit_after_fork() -> None:
    for transport in list(_live):
        transport._after_fork_in_child()


def _close_all_at_exit() -> None:
    for transport in list(_live):
        transport.close(timeout=2.0)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_after_fork)
atexit.register(_close_all_at_exit)
