"""``GET /v1/models/{m}/versions/{v}/lineage`` and ``PUT …/baseline/source`` on every backend:
live periods from the live-version history, the alerts raised while live, every baseline
registration with the current one marked, and clear errors."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.server.conftest import NOW, Api

from keeneye.baseline.register import register_baseline, table_digest
from keeneye.store import EventStore, ModelVersion


def alert(version: str, rule: str, start: Any, status: str = "firing") -> dict[str, Any]:
    return {
        "key": f"churn/{version}/{rule}/age",
        "model": "churn",
        "version": version,
        "rule": rule,
        "subject": "age",
        "severity": "warning",
        "status": status,
        "at": (start + timedelta(hours=1, minutes=5)).isoformat(),
        "summary": f"{rule} on age",
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=1)).isoformat(),
    }


def test_lineage_of_a_version_replaced_and_rolled_back(
    api: Api, store: EventStore, tmp_path: Path
) -> None:
    t0, t1, t2 = NOW, NOW + timedelta(days=1), NOW + timedelta(days=2)
    store.register_version(
        ModelVersion("churn", "1", t0, model_uri="models:/churn/1", git_sha="abc123"), live=True
    )
    store.set_live_version("churn", "2", t1)
    store.set_live_version("churn", "1", t2)
    for entry in (
        alert("1", "feature_drift", t0 + timedelta(hours=2)),  # v1 live
        alert("1", "feature_drift", t0 + timedelta(hours=2), status="sent"),  # not a firing
        alert("*", "traffic_drop", t0 + timedelta(hours=3)),  # model-level, v1 live
        alert("2", "feature_drift", t1 + timedelta(hours=2)),  # v2 live: not v1's
        alert("1", "performance", t1 + timedelta(hours=4)),  # v1's own, while v2 was live
        alert("*", "traffic_drop", t2 + timedelta(hours=1)),  # v1 live again
    ):
        store.save_alert(entry)
    old = pa.table({"age": [30.0, 41.0, 52.0], "plan": ["a", "b", "a"]})
    path = tmp_path / "train.parquet"
    pq.write_table(old, path)
    register_baseline(store, "churn", "1", path, now=t0)
    newer = pa.table({"age": [33.0, 44.0], "plan": ["b", "b"]})
    register_baseline(store, "churn", "1", newer, now=t1)

    body = api.get("/v1/models/churn/versions/1/lineage").json()
    assert (body["model_uri"], body["git_sha"], body["mlflow_run"]) == (
        "models:/churn/1",
        "abc123",
        None,
    )
    assert [(p["since"], p["until"], p["replaced_by"]) for p in body["live"]] == [
        (t0.isoformat().replace("+00:00", "Z"), t1.isoformat().replace("+00:00", "Z"), "2"),
        (t2.isoformat().replace("+00:00", "Z"), None, None),
    ]
    assert [(a["version"], a["rule"]) for a in body["alerts"]] == [
        ("1", "feature_drift"),
        ("*", "traffic_drop"),
        ("1", "performance"),
        ("*", "traffic_drop"),
    ]
    file_source, table_source = body["data_sources"]
    assert file_source["kind"] == "file" and file_source["uri"] == str(path.resolve())
    assert file_source["file_hash"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert file_source["digest"] == table_digest(old) and not file_source["current"]
    assert table_source["kind"] == "table" and table_source["current"]
    assert table_source["rows"] == 2 and table_source["digest"] == table_digest(newer)
    assert body["baseline"]["rows"] == 2
    assert body["baseline"]["reference_kinds"] == {"age": "numeric", "plan": "categorical"}

    v2 = api.get("/v1/models/churn/versions/2/lineage").json()
    assert [a["rule"] for a in v2["alerts"]] == ["feature_drift"]
    assert v2["baseline"] is None and v2["data_sources"] == []


def test_lineage_errors(api: Api, store: EventStore) -> None:
    store.register_version(ModelVersion("churn", "1", NOW))
    unknown = api.get("/v1/models/churn/versions/9/lineage")
    assert unknown.status_code == 404
    assert "has no version '9'" in unknown.json()["error"]["message"]
    assert api.get("/v1/models/nope/versions/1/lineage").status_code == 404
    plain = api.request(
        "PUT", "/v1/models/churn/versions/1/baseline/source", json={"source": "train.parquet"}
    )
    assert plain.status_code == 422
    assert "dvc://" in plain.json()["error"]["message"]
    no_repo = api.request(
        "PUT",
        "/v1/models/churn/versions/1/baseline/source",
        json={"source": "dvc:///nowhere/data.parquet@v1"},
    )
    assert 400 <= no_repo.status_code < 500
    assert "no DVC repository" in no_repo.json()["error"]["message"]
    bad_suffix = api.request(
        "PUT", "/v1/models/churn/versions/1/baseline/source", json={"source": "dvc:///r/x.txt"}
    )
    assert 400 <= bad_suffix.status_code < 500
    assert ".parquet" in bad_suffix.json()["error"]["message"]
    assert api.get("/v1/models/churn/versions/1/lineage").json()["data_sources"] == []


def test_lineage_is_typed_in_openapi(api: Api) -> None:
    doc = api.get("/openapi.json").json()
    operation = doc["paths"]["/v1/models/{model}/versions/{version}/lineage"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/LineageOut"}
    fields = doc["components"]["schemas"]["LineageOut"]["properties"]
    assert {"mlflow_run", "data_sources", "baseline", "live", "alerts"} <= set(fields)


def test_without_a_tracking_server_the_run_is_explained_not_guessed(
    api: Api, store: EventStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    store.register_version(ModelVersion("churn", "1", NOW, mlflow_run_id="0123abcd"))
    body = api.get("/v1/models/churn/versions/1/lineage").json()
    assert body["mlflow_run_id"] == "0123abcd" and body["mlflow_run"] is None
    assert "MLFLOW_TRACKING_URI is not set" in body["mlflow_problem"]
    assert list(cwd.iterdir()) == []  # no local MLflow store was created
