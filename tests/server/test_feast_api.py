"""``PUT …/baseline/source`` with ``feast://`` URIs and ``GET …/skew`` on every backend: the
clear errors a user gets before Feast is reached (a malformed URI, a folder that is no Feast
repository, a server without the ``feast`` extra, a version whose baseline did not come from
Feast). The working path, with a real Feast repository, is ``tests/lineage/test_feast_e2e.py``."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
import pytest
from tests.server.conftest import Api

from keeneye.baseline.register import register_baseline
from keeneye.store import EventStore


def put_source(api: Api, source: str) -> tuple[int, str]:
    answer = api.request(
        "PUT", "/v1/models/churn/versions/1/baseline/source", json={"source": source}
    )
    return answer.status_code, answer.json()["error"]["message"]


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("feast:///srv/repo?start=2026-01-01&end=2026-02-01", "no feature_service="),
        ("feast:///srv/repo?feature_service=s&end=2026-02-01", "no start="),
        ("feast:///srv/repo?feature_service=s&start=jan&end=2026-02-01", "not an ISO-8601"),
        ("feast:///srv/repo?feature_service=s&start=2026-02-01&end=2026-01-01", "not before"),
        ("feast://?feature_service=s&start=2026-01-01&end=2026-02-01", "names no repository"),
        ("feast:///srv/repo?service=s&start=2026-01-01&end=2026-02-01", "unknown parameter"),
    ],
)
def test_a_malformed_feast_uri_is_refused(api: Api, uri: str, says: str) -> None:
    status, message = put_source(api, uri)
    assert status in (400, 422) and says in message, message


def test_a_folder_without_feature_store_yaml(api: Api, tmp_path: Path) -> None:
    status, message = put_source(
        api, f"feast://{tmp_path}?feature_service=s&start=2026-01-01&end=2026-02-01"
    )
    assert status in (400, 422) and "no feature_store.yaml" in message, message


def test_a_server_without_the_feast_extra_answers_501(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "feature_store.yaml").write_text("project: p\n")
    monkeypatch.setitem(sys.modules, "feast", None)  # as if not installed
    status, message = put_source(
        api, f"feast://{tmp_path}?feature_service=s&start=2026-01-01&end=2026-02-01"
    )
    assert status == 501 and "pip install 'keeneye[feast]'" in message, message


def test_skew_needs_a_feast_baseline(api: Api, store: EventStore) -> None:
    register_baseline(store, "churn", "1", pa.table({"age": [30.0, 41.0]}))
    answer = api.get("/v1/models/churn/versions/1/skew")
    assert answer.status_code == 409
    assert "not from Feast" in answer.json()["error"]["message"]
    assert api.get("/v1/models/nobody/versions/1/skew").status_code == 404
    assert api.get("/v1/models/churn/versions/1/skew", params={"sample": 0}).status_code == 422
