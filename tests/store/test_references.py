"""Conformance: fitted references are opaque bytes kept per model version."""

from __future__ import annotations

import pytest

from keeneye.errors import InputError
from keeneye.store import EventStore


def test_references_round_trip_and_replace(store: EventStore) -> None:
    assert store.load_reference("m", "1") is None
    blob = bytes(range(256)) * 10
    store.save_reference("m", "1", blob)
    assert store.load_reference("m", "1") == blob
    store.save_reference("m", "1", b"newer")
    assert store.load_reference("m", "1") == b"newer"
    assert store.load_reference("m", "2") is None
    with pytest.raises(InputError, match="must be bytes"):
        store.save_reference("m", "1", "text")  # type: ignore[arg-type]
