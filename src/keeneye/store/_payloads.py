"""Parsed result payloads, kept between loads: the same stored text is parsed once.

Pages and the analysis runner load the same stored results again and again (a 10-month model
page holds 900 reports of about 10 kB each); parsing their JSON costs more than reading them.
A store keeps the text and the parsed payload of each result key and hands out the same parsed
object while the stored text is unchanged, which also lets
:func:`keeneye.profile.stored.report_of` reuse the decoded report. The text is compared in
full, so a result rewritten with the same key and time is parsed again.

Payloads handed out are shared: callers read them and never change them in place.

>>> memo = PayloadMemo(max_bytes=100)
>>> a = memo.parse(("m", 1), '{"x": 1}')
>>> memo.parse(("m", 1), '{"x": 1}') is a, memo.parse(("m", 1), '{"x": 2}')
(True, {'x': 2})
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

#: Payload text kept per store (parsed and decoded copies take about five times as much).
DEFAULT_MAX_BYTES = 16 * 2**20


class PayloadMemo:
    """The parsed JSON of recently loaded payloads, by result key; thread-safe, bounded by the
    total length of the texts kept (least recently used first out)."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._items: OrderedDict[Hashable, tuple[str, dict[str, Any]]] = OrderedDict()
        self._bytes = 0
        self._max = max_bytes
        self._lock = threading.Lock()

    def parse(self, key: Hashable, text: str) -> dict[str, Any]:
        """``json.loads(text)``, the same object as last time when ``key``'s text is equal."""
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit[0] == text:
                self._items.move_to_end(key)
                return hit[1]
        parsed: dict[str, Any] = json.loads(text)
        if len(text) > self._max:
            return parsed
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old[0])
            self._items[key] = (text, parsed)
            self._bytes += len(text)
            while self._bytes > self._max:
                _, (dropped, _) = self._items.popitem(last=False)
                self._bytes -= len(dropped)
        return parsed
