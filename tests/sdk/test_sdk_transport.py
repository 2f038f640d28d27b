"""The sender's pure parts: backoff schedule, batching rule, contract JSON encoding."""

from __future__ import annotations

import json
import math
import random
from datetime import datetime, timezone
from decimal import Decimal

import numpy as np
import pytest

from keeneye.sdk.transport import (
    backoff_delay,
    batch_due,
    encode_label,
    encode_prediction,
    retryable,
)


def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    rng = random.Random(42)
    for attempt in range(12):
        ceiling = min(2.0, 0.05 * 2**attempt)
        draws = [backoff_delay(attempt, 0.05, 2.0, rng) for _ in range(2000)]
        assert min(draws) >= 0.0 and max(draws) <= ceiling
        # uniform on [0, ceiling]: mean ceiling/2, standard error ceiling/sqrt(12*2000)
        assert abs(sum(draws) / len(draws) - ceiling / 2) < 5 * ceiling / math.sqrt(12 * 2000)


def test_backoff_reproducible_with_a_seed() -> None:
    a = [backoff_delay(i, 0.1, 5.0, random.Random(7)) for i in range(5)]
    b = [backoff_delay(i, 0.1, 5.0, random.Random(7)) for i in range(5)]
    assert a == b


def test_retry_statuses_match_the_contract() -> None:
    assert all(retryable(s) for s in (408, 429, *range(500, 600)))
    assert not any(retryable(s) for s in (*range(400, 408), *range(409, 429), *range(430, 500)))


@pytest.mark.parametrize(
    ("queued", "age", "forced", "due"),
    [
        (0, 99.0, True, False),
        (499, 0.5, False, False),
        (500, 0.0, False, True),
        (1, 1.0, False, True),
        (1, 0.0, True, True),
    ],
)
def test_batch_due(queued: int, age: float, forced: bool, due: bool) -> None:
    assert batch_due(queued, age, batch_size=500, flush_interval=1.0, forced=forced) is due


def test_encode_prediction_contract_json() -> None:
    item = (
        "p",
        "abc",
        1700000000.25,
        {
            "age": np.int64(31),
            "score": np.float32("nan"),
            "inf": math.inf,
            "plan": "pro",
            "ok": np.bool_(True),
            "emb": np.array([1.0, 2.0]),
            "when": datetime(2026, 1, 1, tzinfo=timezone.utc),
            "price": Decimal("1.5"),
            "missing": None,
        },
        np.float64(0.73),
        {"no": 0.27, "yes": 0.73},
        0.0012,
    )
    raw = encode_prediction(item, "3")
    assert b"NaN" in raw and b"Infinity" in raw  # the contract's literals
    event = json.loads(raw)
    assert event["event_id"] == "abc"
    assert event["timestamp"] == 1700000000.25
    assert event["inputs"]["age"] == 31 and math.isnan(event["inputs"]["score"])
    assert event["inputs"]["ok"] is True and event["inputs"]["emb"] == [1.0, 2.0]
    assert event["inputs"]["when"] == "2026-01-01T00:00:00+00:00"
    assert event["inputs"]["price"] == 1.5 and event["inputs"]["missing"] is None
    assert event["prediction"] == 0.73
    assert event["probabilities"] == {"no": 0.27, "yes": 0.73}
    assert event["latency_seconds"] == 0.0012


def test_encode_prediction_without_optional_fields() -> None:
    event = json.loads(encode_prediction(("p", "e", 1.0, {}, None, None, None), "3"))
    assert event == {"event_id": "e", "timestamp": 1.0, "inputs": {}, "prediction": None}


def test_encode_rejects_what_the_contract_cannot_carry() -> None:
    with pytest.raises(TypeError, match="not a number, string, bool or null"):
        encode_prediction(("p", "e", 1.0, {}, [1, 2], None, None), "3")
    with pytest.raises(TypeError, match="type object is not JSON serialisable"):
        encode_prediction(("p", "e", 1.0, {"x": object()}, 1, None, None), "3")


def test_encode_label() -> None:
    assert json.loads(encode_label(("l", "e", 5.0, np.int64(1)))) == {
        "event_id": "e",
        "label": 1,
        "timestamp": 5.0,
    }
