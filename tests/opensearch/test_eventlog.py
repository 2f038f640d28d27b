"""The OpenSearch event log's own guarantees, on the real node: a batch is acknowledged only
when every bulk item is stored (a refused item fails the batch, its retry stores only what was
missing), index layout and mapping, and retention by deleting expired daily indices."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from keeneye.errors import StoreError
from keeneye.store import PredictionEvent
from keeneye.store.opensearch import connect, parse_url
from keeneye.store.opensearch.eventlog import OpenSearchEventLog

DAY = datetime(2026, 7, 1, tzinfo=UTC)


@pytest.fixture
def log(opensearch_url: str) -> Iterator[OpenSearchEventLog]:
    namespace = f"g{uuid.uuid4().hex[:8]}"
    settings = parse_url(f"opensearch://{opensearch_url.split('://')[1]}?namespace={namespace}")
    opened = OpenSearchEventLog(connect(settings), namespace=namespace)
    yield opened
    opened.client.indices.delete(index=f"{namespace}-*", ignore_unavailable=True)
    opened.close()


def events(days: int, per_day: int) -> list[PredictionEvent]:
    return [
        PredictionEvent(f"d{d}-{i}", "1", DAY + timedelta(days=d, minutes=i), {"x": float(i)}, 0.5)
        for d in range(days)
        for i in range(per_day)
    ]


def test_a_refused_item_fails_the_batch_and_its_retry_stores_only_the_rest(
    log: OpenSearchEventLog,
) -> None:
    assert log.write_predictions("m", events(1, 3)).stored == 3
    blocked = f"{log.namespace}-events-m-2026.07.02"
    log.client.indices.create(index=blocked)
    log.client.indices.put_settings(index=blocked, body={"index.blocks.write": True})
    batch = events(2, 3)  # day 0 already stored, day 1 refused by the write block
    with pytest.raises(StoreError, match="refused 3 of"):
        log.write_predictions("m", batch)
    log.client.indices.put_settings(index=blocked, body={"index.blocks.write": False})
    report = log.write_predictions("m", batch)  # the SDK's retry of the same batch
    assert (report.stored, report.duplicates) == (3, 3)
    window = log.read_window("m", DAY, DAY + timedelta(days=3))
    assert window.events.column("event_id").to_pylist() == [e.event_id for e in batch]


def test_daily_indices_strict_mapping_and_retention(log: OpenSearchEventLog) -> None:
    many = {f"feature_{j}": float(j) for j in range(300)}  # far more features than fields
    batch = [
        PredictionEvent(f"d{d}", "1", DAY + timedelta(days=d), {**many, "plan": "pro"}, 1.0)
        for d in range(3)
    ]
    assert log.write_predictions("m", batch).stored == 3
    names = sorted(log.client.indices.get_alias(index=f"{log.namespace}-events-m-*"))
    assert names == [f"{log.namespace}-events-m-2026.07.0{d}" for d in (1, 2, 3)]
    mapping = log.client.indices.get_mapping(index=names[0])[names[0]]["mappings"]
    assert mapping["dynamic"] == "strict"
    assert mapping["properties"]["f"]["type"] == "flat_object"
    assert len(mapping["properties"]) < 20  # 301 features, one field
    deleted = log.apply_retention(1, now=DAY + timedelta(days=2, hours=12))
    assert deleted == [f"{log.namespace}-events-m-2026.07.01"]
    left = log.read_window("m", DAY - timedelta(days=1), DAY + timedelta(days=5))
    assert left.events.column("event_id").to_pylist() == ["d1", "d2"]
    assert left.features.column("feature_299").to_pylist() == [299.0, 299.0]


def test_the_node_is_seen_as_opensearch_without_the_ism_plugin(
    log: OpenSearchEventLog, opensearch_url: str
) -> None:
    # The node built from Maven Central has no ISM plugin (not published there): retention
    # is then apply_retention's deletion of expired days, and no template names a policy.
    settings = parse_url(f"opensearch://{opensearch_url.split('://')[1]}")
    keeping = OpenSearchEventLog(connect(settings), namespace=log.namespace, retention_days=3)
    try:
        assert (keeping.server.distribution, keeping.server.flat_type) == (
            "opensearch",
            "flat_object",
        )
        assert keeping.lifecycle_policy is None
        template = keeping.client.indices.get_index_template(name=f"{log.namespace}-events")
        settings_sent = template["index_templates"][0]["index_template"]["template"]["settings"]
        assert "lifecycle" not in str(settings_sent) and "policy" not in str(settings_sent)
    finally:
        keeping.close()
