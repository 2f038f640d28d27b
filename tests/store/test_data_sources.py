"""Conformance: the data sources of registered baselines (lineage) are appended per version and
read back as typed records, oldest first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.store.conftest import T0

from keeneye.errors import InputError
from keeneye.store import DataSource, EventStore


def _source(version: str, revision: str, minutes: int) -> DataSource:
    return DataSource(
        model="m",
        version=version,
        kind="dvc",
        uri=f"dvc:///repo/data/train.parquet@{revision}",
        recorded_at=T0 + timedelta(minutes=minutes),
        rows=120,
        columns=("age", "plan"),
        digest=f"digest-{revision}",
        file_hash="3fd8fc0b02d260f887abc42bb10c5e8f",
        revision=revision,
        commit="6482f07e0aca945055b7020572474c490651476f",
        feature_service="svc",
        features=("driver:age", "driver:plan"),
        start=T0 - timedelta(days=7),
        end=T0,
    )


def test_data_sources_are_appended_per_version(store: EventStore) -> None:
    assert store.data_sources("m", "1") == []
    first, second = _source("1", "v1", 0), _source("1", "v2", 5)
    other = _source("2", "v3", 1)
    for source in (first, other, second):
        store.record_data_source(source)
    assert store.data_sources("m", "1") == [first, second]
    assert store.data_sources("m", "2") == [other]
    assert store.data_sources("other", "1") == []


def test_a_data_source_needs_an_aware_time(store: EventStore) -> None:
    naive = DataSource("m", "1", "file", "/x.parquet", T0.replace(tzinfo=None), 1, ("a",), "d")
    with pytest.raises(InputError, match="recorded_at"):
        store.record_data_source(naive)
