"""The model server app in process (scikit-learn files, no MLflow) against a real collector:
V2 and /predict answers, events in the store, pre-processed logging, loading rules, errors."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
import skops.io as sio
from prometheus_client import CollectorRegistry
from sklearn.linear_model import LogisticRegression
from tests.modelserver.conftest import ThreadServer
from tests.modelserver.models import FEATURES, fit, training_frame, v2_inputs
from tests.sdk.conftest import Collector

from keeneye.errors import InputError, MissingExtraError
from keeneye.modelserver import ModelServer, create_app, load_model
from keeneye.store.records import WindowData


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Collector]:
    c = Collector(tmp_path / "events.duckdb")
    yield c
    c.stop()


@pytest.fixture
def skops_file(tmp_path: Path) -> tuple[Path, Any]:
    model = fit(training_frame(seed=1))
    path = tmp_path / "churn.skops"
    sio.dump(model, path)
    return path, model


def serve(path: Path, collector: Collector, **options: Any) -> tuple[ModelServer, ThreadServer]:
    server = ModelServer(
        "churn",
        keeneye_url=collector.url,
        registry=CollectorRegistry(),
        monitor_options={"flush_interval": 0.05},
        **options,
    )
    server.deploy(load_model(str(path)))
    return server, ThreadServer(create_app(server, close_on_shutdown=False))


def window(collector: Collector) -> WindowData:
    now = datetime.now(UTC)
    return collector.store.read_window("churn", now - timedelta(hours=1), now + timedelta(hours=1))


def test_skops_model_answers_v2_and_predict_and_logs_each_row(
    skops_file: tuple[Path, Any], collector: Collector
) -> None:
    path, model = skops_file
    server, app = serve(path, collector)
    batch = training_frame(seed=5, rows=8)
    with app as client:
        v2 = client.post("/v2/models/churn/infer", json={"inputs": v2_inputs(batch)})
        assert v2.status_code == 200, v2.text
        outputs = {o["name"]: o for o in v2.json()["outputs"]}
        assert outputs["predict"]["data"] == model.predict(batch[FEATURES]).tolist()
        np.testing.assert_allclose(
            np.reshape(outputs["predict_proba"]["data"], (8, 2)),
            model.predict_proba(batch[FEATURES]),
            rtol=1e-12,
        )
        plain = client.post("/predict", json={"records": batch[FEATURES].to_dict("records")})
        assert plain.json()["predictions"] == model.predict(batch[FEATURES]).tolist()
        meta = client.get("/v2/models/churn").json()
        assert [i["name"] for i in meta["inputs"]] == FEATURES
        assert client.get("/v2/health/ready").json() == {"ready": True}
        metrics = client.get("/metrics").text
    assert server.current.monitor.flush(10)
    server.close()
    version = server.current.model.version
    assert len(version) == 12  # the file's content hash
    assert 'keeneye_predictions_total{model="churn",version="' + version + '"} 16.0' in metrics
    events = window(collector).events
    assert events.num_rows == 16
    assert set(events["version"].to_pylist()) == {version}
    ids = v2.json()["parameters"]["event_ids"] + plain.json()["event_ids"]
    assert sorted(events["event_id"].to_pylist()) == sorted(ids)
    stored = collector.store.versions("churn")
    assert [v.model_uri for v in stored] == [str(path.resolve())]
    assert collector.store.model_summary("churn").live_version == version


def test_log_preprocessed_both_logs_raw_and_transformed_features(
    skops_file: tuple[Path, Any], collector: Collector
) -> None:
    path, model = skops_file
    server, app = serve(path, collector, log_mode="both")
    batch = training_frame(seed=6, rows=4)
    with app as client:
        answer = client.post("/predict", json={"records": batch[FEATURES].to_dict("records")})
    assert answer.status_code == 200
    assert server.current.monitor.flush(10)
    server.close()
    data = window(collector)
    features = data.features
    stored_ids = data.events["event_id"].to_pylist()
    rows = [stored_ids.index(e) for e in answer.json()["event_ids"]]  # the request's row order
    transformed = np.asarray(model[:-1].transform(batch[FEATURES]))
    names = [f"pre.{n}" for n in model[:-1].get_feature_names_out()]
    assert set(FEATURES) | set(names) <= set(features.column_names)
    assert features["age"].to_numpy()[rows].tolist() == batch["age"].tolist()
    for j, name in enumerate(names):
        np.testing.assert_allclose(features[name].to_numpy()[rows], transformed[:, j], rtol=1e-12)


def test_preprocessed_logging_needs_a_pipeline(tmp_path: Path, collector: Collector) -> None:
    frame = training_frame(seed=2)
    plain = LogisticRegression().fit(frame[["age", "income"]], frame["label"])
    path = tmp_path / "plain.skops"
    sio.dump(plain, path)
    server = ModelServer("churn", keeneye_url=collector.url, log_mode="preprocessed")
    with pytest.raises(InputError, match="needs a scikit-learn Pipeline"):
        server.deploy(load_model(str(path)))


def test_pickle_is_refused_without_trust(tmp_path: Path) -> None:
    path = tmp_path / "model.joblib"
    joblib.dump(fit(training_frame(seed=3)), path)
    with pytest.raises(InputError, match="--trust-pickle"):
        load_model(str(path))
    loaded = load_model(str(path), trust_pickle=True)
    assert loaded.platform == "sklearn-pickle"
    assert loaded.classes == [0, 1]


def test_unknown_model_sources_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot serve"):
        load_model(str(tmp_path / "model.onnx"))
    with pytest.raises(InputError, match="without an MLmodel file"):
        load_model(str(tmp_path))
    with pytest.raises(InputError, match="does not exist"):
        load_model(str(tmp_path / "missing.skops"))
    with pytest.raises(InputError, match="models:/NAME/VERSION"):
        load_model("models:/churn/latest")


def test_missing_mlflow_extra_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # what `import mlflow` sees when absent
    with pytest.raises(MissingExtraError, match=r"pip install 'keeneye\[mlflow\]'"):
        load_model("models:/churn/1")


def test_every_error_uses_the_envelope(skops_file: tuple[Path, Any], collector: Collector) -> None:
    path, _ = skops_file
    server, app = serve(path, collector)
    inputs = v2_inputs(training_frame(seed=4, rows=3))
    cases: list[tuple[str, str, Any, int, str]] = [
        ("post", "/v2/models/other/infer", {"inputs": inputs}, 404, "not_found"),
        ("post", "/v2/models/churn/versions/nope/infer", {"inputs": inputs}, 404, "not_found"),
        ("post", "/v2/models/churn/infer", b"{not json", 400, "invalid_json"),
        ("post", "/v2/models/churn/infer", {"inputs": []}, 400, "invalid_request"),
        ("post", "/v2/models/churn/infer", {"inputs": inputs, "outputs": [{"name": "x"}]},
         400, "invalid_request"),
        ("post", "/predict", {"rows": []}, 400, "invalid_request"),
        ("get", "/predict", None, 405, "method_not_allowed"),
        ("get", "/nowhere", None, 404, "not_found"),
    ]  # fmt: skip
    with app as client:
        for method, url, body, status, code in cases:
            if isinstance(body, bytes):
                answer = client.request(method, url, content=body)
            else:
                answer = client.request(method, url, json=body)
            assert answer.status_code == status, (url, answer.text)
            assert set(answer.json()) == {"error"}
            assert answer.json()["error"]["code"] == code
            assert set(answer.json()["error"]) == {"code", "message", "details"}
    server.close()
