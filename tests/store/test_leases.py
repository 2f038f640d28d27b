"""Conformance: leases (claim / renew / release with expiry) and service heartbeats."""

from __future__ import annotations

import time

from keeneye.store import EventStore


def test_a_claim_is_held_by_one_owner_until_released(store: EventStore) -> None:
    assert store.claim("drift/m/day/1", "a", 30)
    assert not store.claim("drift/m/day/1", "b", 30)
    assert store.claim("drift/m/day/1", "a", 30)  # the owner may claim again (extends)
    assert store.claim("drift/m/day/2", "b", 30)  # other keys are free
    assert store.renew("drift/m/day/1", "a", 30)
    assert not store.renew("drift/m/day/1", "b", 30)
    store.release("drift/m/day/1", "b")  # not b's: nothing happens
    assert not store.claim("drift/m/day/1", "b", 30)
    store.release("drift/m/day/1", "a")
    assert store.claim("drift/m/day/1", "b", 30)


def test_a_lapsed_claim_is_taken_over(store: EventStore) -> None:
    assert store.claim("stats/m/hour/1", "dead-worker", 0.3)
    assert not store.claim("stats/m/hour/1", "b", 30)
    time.sleep(0.5)
    assert store.claim("stats/m/hour/1", "b", 30)
    assert not store.renew("stats/m/hour/1", "dead-worker", 30)


def test_heartbeats_list_live_services(store: EventStore) -> None:
    store.heartbeat("worker-drift", "host:1", {"runs": 1})
    store.heartbeat("collector", "host:2", {"port": 8080})
    store.heartbeat("worker-drift", "host:1", {"runs": 2})
    beats = store.services(60)
    assert [(b.service, b.owner) for b in beats] == [
        ("collector", "host:2"),
        ("worker-drift", "host:1"),
    ]
    assert beats[1].info == {"runs": 2}
    assert beats[1].beat_at >= beats[1].started_at
    time.sleep(0.3)
    store.heartbeat("collector", "host:2", {"port": 8080})
    assert [b.owner for b in store.services(0.2)] == ["host:2"]
