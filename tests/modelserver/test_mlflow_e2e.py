"""End to end, as real processes: an MLflow registry, ``keeneye server`` and
``keeneye serve-model models:/churn@champion`` — predictions, events with their version, the
baseline from the run's training dataset, and promotions/rollbacks picked up without restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from tests.modelserver.conftest import BIN, spawn, start_listening, stop, url_of, wait_for
from tests.modelserver.models import FEATURES, fit, training_frame, v2_inputs

from keeneye.store import open_store

MODEL = "churn"


def register(model: Any, frame: pd.DataFrame, dataset_path: Path | None) -> tuple[str, str]:
    """Log ``model`` with a signature (and, if given, its training dataset) in a run and
    register it as a new version of ``churn``; returns (version, run id)."""
    import mlflow
    from mlflow.models import infer_signature

    features = frame[FEATURES]
    with mlflow.start_run() as run:
        if dataset_path is not None:
            dataset = mlflow.data.from_pandas(
                frame, source=str(dataset_path), name="churn-train", targets="label"
            )
            mlflow.log_input(dataset, context="training")
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(features, model.predict(features)),
            registered_model_name=MODEL,
            pip_requirements=["scikit-learn"],  # skips MLflow's slow requirement inference
        )
    return str(info.registered_model_version), run.info.run_id


def infer(url: str, frame: pd.DataFrame) -> httpx.Response:
    return httpx.post(
        f"{url}/v2/models/{MODEL}/infer",
        json={"id": "req-1", "inputs": v2_inputs(frame)},
        timeout=30,
    )


def predict(url: str, frame: pd.DataFrame) -> dict[str, Any]:
    records = frame[FEATURES].to_dict(orient="records")
    response = httpx.post(f"{url}/predict", json={"records": records}, timeout=30)
    assert response.status_code == 200, response.text
    return dict(response.json())


def assert_invalid(response: httpx.Response, name: str) -> None:
    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["details"]["input"] == name
    assert error["message"].startswith(f"{name}:")


@pytest.mark.e2e
def test_serve_model_from_mlflow_alias(
    mlflow_server: str, tmp_path: Path, quiet_mlflow: None, request: pytest.FixtureRequest
) -> None:
    import mlflow

    store_path = tmp_path / "keeneye.duckdb"
    # the collector starts while the models are trained and registered
    keeneye, keeneye_log = spawn(
        [str(BIN / "keeneye"), "server", "--store", str(store_path), "--port", "0"], cwd=tmp_path
    )
    request.addfinalizer(lambda: stop(keeneye))  # also when registering below fails
    frame = training_frame(seed=0)
    train_path = tmp_path / "train.parquet"
    frame.to_parquet(train_path)
    champion, flipped = fit(frame), fit(frame, flip=True)
    v1, run1 = register(champion, frame, train_path)
    v2, run2 = register(flipped, frame, None)
    client = mlflow.MlflowClient()
    client.set_registered_model_alias(MODEL, "champion", v1)
    keeneye_url = url_of(keeneye, keeneye_log)
    served: dict[str, str] = {}  # event id -> version the server answered with
    try:
        server, url = start_listening(
            [
                str(BIN / "keeneye"),
                "serve-model",
                f"models:/{MODEL}@champion",
                "--port",
                "0",
                "--keeneye-url",
                keeneye_url,
                "--alias-poll-seconds",
                "0.3",
            ],
            cwd=tmp_path,
            env={"MLFLOW_TRACKING_URI": mlflow_server},
            timeout=120,
        )
        try:
            wait_for("model ready", lambda: httpx.get(f"{url}/v2/health/ready").is_success, 30)
            batch = training_frame(seed=7, rows=12)

            # V2 infer: the champion's own predictions and probabilities
            answer = infer(url, batch)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert (body["model_name"], body["model_version"], body["id"]) == (MODEL, v1, "req-1")
            outputs = {o["name"]: o for o in body["outputs"]}
            assert outputs["predict"]["data"] == champion.predict(batch[FEATURES]).tolist()
            assert outputs["predict_proba"]["shape"] == [12, 2]
            np.testing.assert_allclose(
                np.reshape(outputs["predict_proba"]["data"], (12, 2)),
                champion.predict_proba(batch[FEATURES]),
                rtol=1e-12,
            )
            served |= dict.fromkeys(body["parameters"]["event_ids"], v1)

            # /predict: the same answers for records
            plain = predict(url, batch)
            assert plain["version"] == v1
            assert plain["predictions"] == champion.predict(batch[FEATURES]).tolist()
            assert plain["classes"] == [0, 1]
            served |= dict.fromkeys(plain["event_ids"], v1)

            # invalid requests: 4xx naming the input, nothing predicted
            inputs = v2_inputs(batch.head(2))
            wrong_shape = [inputs[0], {**inputs[1], "shape": [3]}, inputs[2]]
            bad = httpx.post(f"{url}/v2/models/{MODEL}/infer", json={"inputs": wrong_shape})
            assert_invalid(bad, "income")
            matrix = {**inputs[0], "shape": [1, 2]}
            bad = httpx.post(
                f"{url}/v2/models/{MODEL}/infer", json={"inputs": [matrix, *inputs[1:]]}
            )
            assert_invalid(bad, "age")
            wrong_type = {**inputs[2], "datatype": "FP64", "data": [1.0, 2.0]}
            bad = httpx.post(
                f"{url}/v2/models/{MODEL}/infer", json={"inputs": [*inputs[:2], wrong_type]}
            )
            assert_invalid(bad, "plan")
            bad_value = {**inputs[0], "data": [30, "forty"]}
            bad = httpx.post(
                f"{url}/v2/models/{MODEL}/infer", json={"inputs": [bad_value, *inputs[1:]]}
            )
            assert_invalid(bad, "age")
            bad = httpx.post(f"{url}/v2/models/{MODEL}/infer", json={"inputs": inputs[:2]})
            assert_invalid(bad, "plan")
            records = [{"age": 30, "income": 41.5}]
            bad = httpx.post(f"{url}/predict", json={"records": records})
            assert_invalid(bad, "records[0].plan")

            # the version is registered live in keeneye, with its MLflow provenance
            detail = httpx.get(f"{keeneye_url}/v1/models/{MODEL}").json()
            assert detail["live_version"] == v1
            first = next(v for v in detail["version_details"] if v["version"] == v1)
            assert first["mlflow_run_id"] == run1
            assert first["model_uri"] == f"models:/{MODEL}/{v1}"
            assert "churn-train" in first["training_data"]
            assert "age" in first["tags"]["signature_inputs"]

            # promotion: the alias moves to version 2, picked up without a restart
            client.set_registered_model_alias(MODEL, "champion", v2)
            switched = wait_for(
                "version 2 served", lambda: (p := predict(url, batch))["version"] == v2 and p, 60
            )
            assert switched["predictions"] == flipped.predict(batch[FEATURES]).tolist()
            served |= dict.fromkeys(switched["event_ids"], v2)
            after = infer(url, batch).json()
            assert after["model_version"] == v2
            served |= dict.fromkeys(after["parameters"]["event_ids"], v2)
            metrics = httpx.get(f"{url}/metrics").text
            assert f'keeneye_model_info{{model="churn",version="{v1}"}} 0.0' in metrics
            assert f'keeneye_model_info{{model="churn",version="{v2}"}} 1.0' in metrics
            assert f'mlflow_run_id="{run2}"' in metrics

            # rollback: the alias goes back to version 1
            client.set_registered_model_alias(MODEL, "champion", v1)
            back = wait_for(
                "version 1 again", lambda: (p := predict(url, batch))["version"] == v1 and p, 60
            )
            assert back["predictions"] == champion.predict(batch[FEATURES]).tolist()
            served |= dict.fromkeys(back["event_ids"], v1)

            detail = wait_for(
                "events stored",
                lambda: (
                    (d := httpx.get(f"{keeneye_url}/v1/models/{MODEL}").json())["events"]
                    >= len(served)
                    and d
                ),
                30,
            )
            assert detail["live_version"] == v1
            history = [(h["previous_version"], h["version"]) for h in detail["version_history"]]
            assert history == [(None, v1), (v1, v2), (v2, v1)]
        finally:
            stop(server)
    finally:
        stop(keeneye)

    # the store, read after the collector stopped: every event carries the version it was
    # answered with; version 1 has its baseline (features + the model's predictions + label)
    store = open_store(store_path)
    try:
        now = datetime.now(UTC)
        events = store.read_window(MODEL, now - timedelta(days=1), now + timedelta(days=1)).events
        stored = dict(
            zip(events["event_id"].to_pylist(), events["version"].to_pylist(), strict=True)
        )
        missing = set(served) - set(stored)
        assert not missing
        assert {e: stored[e] for e in served} == served
        baseline = store.load_baseline(MODEL, v1)
        assert baseline is not None
        assert {"age", "income", "plan", "prediction", "label"} <= set(baseline.column_names)
        assert baseline.num_rows == len(frame)
        assert baseline["prediction"].to_pylist() == champion.predict(frame[FEATURES]).tolist()
        assert store.load_baseline(MODEL, v2) is None  # its run logged no dataset
    finally:
        store.close()


def test_runs_uri_and_model_folder_load_with_provenance(
    mlflow_server: str, tmp_path: Path, quiet_mlflow: None
) -> None:
    import mlflow
    from mlflow.models import infer_signature

    from keeneye.modelserver import load_model

    frame = training_frame(seed=3)
    train_path = tmp_path / "train.csv"
    frame.to_csv(train_path, index=False)
    model = fit(frame)
    with mlflow.start_run() as run:
        dataset = mlflow.data.from_pandas(frame, source=str(train_path), name="csv-train")
        mlflow.log_input(dataset, context="training")
        mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(frame[FEATURES], model.predict(frame[FEATURES])),
            pip_requirements=["scikit-learn"],
        )
    loaded = load_model(f"runs:/{run.info.run_id}/model")
    assert (loaded.version, loaded.platform) == (run.info.run_id, "mlflow-sklearn")
    assert loaded.metadata["mlflow_run_id"] == run.info.run_id
    assert loaded.inputs is not None and loaded.inputs.names == FEATURES
    assert [c.type for c in loaded.inputs.columns or ()] == ["long", "double", "string"]
    assert loaded.baseline is not None
    baseline = loaded.baseline()
    assert baseline is not None and baseline.num_rows == len(frame)
    np.testing.assert_array_equal(loaded.predict(frame[FEATURES]), model.predict(frame[FEATURES]))

    folder = tmp_path / "saved"
    mlflow.sklearn.save_model(
        model,
        folder,
        signature=infer_signature(frame[FEATURES], model.predict(frame[FEATURES])),
        pip_requirements=["scikit-learn"],
    )
    local = load_model(str(folder), name="churn-local")
    assert local.name == "churn-local" and local.platform == "mlflow-sklearn"
    assert local.inputs is not None and local.inputs.names == FEATURES
    assert local.classes == [0, 1]
    assert local.metadata["model_uri"] == str(folder.resolve())
