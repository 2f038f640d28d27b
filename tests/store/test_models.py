"""Conformance: versions, live-version history, model summaries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.store.conftest import T0, FakeClock

from keeneye.errors import NotFoundError
from keeneye.store import EventStore, ModelVersion, PredictionEvent


def test_versions_metadata_and_upsert(store: EventStore) -> None:
    store.register_version(
        ModelVersion(
            "m", "1", T0, model_uri="models:/m/1", training_data="dvc:abc", tags={"team": "risk"}
        )
    )
    store.register_version(ModelVersion("m", "1", T0, git_sha="deadbeef"))
    store.register_version(ModelVersion("m", "2", T0 + timedelta(days=1), mlflow_run_id="r2"))
    versions = store.versions("m")
    assert [v.version for v in versions] == ["1", "2"]
    assert versions[0].git_sha == "deadbeef" and versions[0].model_uri is None  # replaced
    assert versions[1].mlflow_run_id == "r2" and versions[1].registered_at == T0 + timedelta(1)
    store.register_version(ModelVersion("m", "3", T0, tags={"a": "b"}))
    assert [v.version for v in store.versions("m")] == ["1", "3", "2"]  # by registration time
    assert store.versions("m")[1].tags == {"a": "b"}


def test_live_version_history_and_default(store: EventStore, clock: FakeClock) -> None:
    store.write_predictions(
        "m",
        [
            PredictionEvent("a", "1", T0, {}, 1),
            PredictionEvent("b", "2", T0 + timedelta(hours=1), {}, 1),
        ],
    )
    # Never set: the version of the latest event counts as live.
    assert store.model_summary("m").live_version == "2"
    assert store.version_history("m") == []
    store.set_live_version("m", "1", T0 + timedelta(hours=2))
    store.register_version(ModelVersion("m", "3", T0 + timedelta(hours=3)), live=True)
    store.set_live_version("m", "1", T0 + timedelta(hours=4))  # rollback
    store.set_live_version("m", "1", T0 + timedelta(hours=5))  # no change: not recorded
    history = store.version_history("m")
    assert [(c.version, c.previous_version) for c in history] == [
        ("1", None),
        ("3", "1"),
        ("1", "3"),
    ]
    assert history[1].live_since == T0 + timedelta(hours=3)
    summary = store.model_summary("m")
    assert summary.live_version == "1"
    assert summary.versions == ("1", "2", "3")


def test_summaries_and_unknown_models(store: EventStore) -> None:
    with pytest.raises(NotFoundError, match="'ghost'"):
        store.model_summary("ghost")
    assert store.list_models() == []
    store.register_version(ModelVersion("b", "1", T0))
    store.write_predictions("a", [PredictionEvent("x", "1", T0, {}, 1)])
    summaries = {s.model: s for s in store.list_models()}
    assert set(summaries) == {"a", "b"}
    assert summaries["b"].events == 0 and summaries["b"].label_coverage is None
    assert summaries["a"].first_event == T0 == summaries["a"].last_event
    assert store.versions("ghost") == [] and store.version_history("ghost") == []
