"""The client's JSON through ``orjson``: a 10,000-hit page parses several times faster than
with the standard library, and request bodies are encoded in C.

>>> OrjsonSerializer().loads(b'{"hits": {"hits": [1.5]}}')
{'hits': {'hits': [1.5]}}
>>> OrjsonSerializer().dumps({"a": [1, "é"]})
'{"a":[1,"é"]}'
"""

from __future__ import annotations

from typing import Any

import orjson
from opensearchpy.exceptions import SerializationError
from opensearchpy.serializer import JSONSerializer


class OrjsonSerializer(JSONSerializer):
    """``opensearchpy``'s JSON serializer with ``orjson`` underneath (same fallbacks for
    dates, UUIDs and numpy scalars through ``default``)."""

    def loads(self, s: str | bytes) -> Any:
        try:
            return orjson.loads(s)
        except orjson.JSONDecodeError as exc:
            raise SerializationError(s, exc) from exc

    def dumps(self, data: Any) -> Any:
        if isinstance(data, (str, bytes)):
            return data
        try:
            return orjson.dumps(data, default=self.default).decode()
        except TypeError as exc:
            raise SerializationError(data, exc) from exc
