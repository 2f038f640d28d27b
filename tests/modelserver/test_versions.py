"""``keeneye serve-model --version``: a skops model served as version 3 logs its events under
version 3 and is compared with version 3's baseline; without ``--version`` the file's hash is
used and said so, with a warning that the live version has no baseline. Requests are checked
against the types the model learnt in training: a number for a string column is a 400 naming
the column."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import skops.io as sio
from tests.modelserver.conftest import BIN, spawn, stop, url_of, wait_for
from tests.modelserver.models import FEATURES, fit, training_frame

from keeneye.modelserver import load_model
from keeneye.store import open_store


def _serve(path: Path, keeneye_url: str, tmp_path: Path, *extra: str) -> tuple[object, str, Path]:
    proc, log = spawn(
        [
            str(BIN / "keeneye"),
            "serve-model",
            str(path),
            "--name",
            "churn",
            "--port",
            "0",
            "--keeneye-url",
            keeneye_url,
            *extra,
        ],
        cwd=tmp_path,
    )
    url = url_of(proc, log, timeout=120)
    wait_for("model ready", lambda: httpx.get(f"{url}/v2/health/ready").is_success, 30, proc)
    return proc, url, log


@pytest.mark.e2e
def test_skops_model_served_as_version_3_logs_under_v3_against_v3s_baseline(
    tmp_path: Path,
) -> None:
    frame = training_frame(seed=1)
    path = tmp_path / "churn.skops"
    sio.dump(fit(frame), path)
    store_path = tmp_path / "k.duckdb"
    keeneye, keeneye_log = spawn(
        [str(BIN / "keeneye"), "server", "--store", str(store_path), "--port", "0"], cwd=tmp_path
    )
    try:
        keeneye_url = url_of(keeneye, keeneye_log)
        records = json.loads(frame[[*FEATURES, "label"]].to_json(orient="records"))
        put = httpx.put(
            f"{keeneye_url}/v1/models/churn/versions/3/baseline", json=records, timeout=60
        )
        assert put.status_code == 201, put.text

        # Without --version: the file's hash, said so, and the missing baseline warned about.
        proc, _, log = _serve(path, keeneye_url, tmp_path)
        stop(proc)
        digest = load_model(str(path)).version
        text = log.read_text()
        assert f"serving churn version {digest}: the model file's content hash" in text
        assert f"no baseline for churn version {digest}" in text
        assert "baselines exist for versions ['3']" in text

        # --version 3: events under version 3, compared with version 3's baseline, no warning.
        proc, url, log = _serve(path, keeneye_url, tmp_path, "--version", "3")
        try:
            batch = training_frame(seed=9, rows=5)[FEATURES]
            answer = httpx.post(f"{url}/predict", json={"records": batch.to_dict("records")})
            assert answer.status_code == 200, answer.text
            assert answer.json()["version"] == "3"
            wrong = {**batch.iloc[0].to_dict(), "plan": 7}
            refused = httpx.post(f"{url}/predict", json={"records": [wrong]})
            assert refused.status_code == 400, refused.text
            error = refused.json()["error"]
            assert error["details"]["input"] == "records[0].plan"
            assert (
                "records[0].plan: expected a string (MLflow type 'string'), got 7"
                in (error["message"])
            )
            v2 = httpx.post(
                f"{url}/v2/models/churn/infer",
                json={"inputs": [{"name": "plan", "shape": [1], "datatype": "FP64", "data": [7]},
                                 {"name": "age", "shape": [1], "datatype": "INT64", "data": [30]},
                                 {"name": "income", "shape": [1], "datatype": "FP64",
                                  "data": [50.0]}]},
            )  # fmt: skip
            assert v2.status_code == 400 and "plan" in v2.json()["error"]["message"]
            meta = httpx.get(f"{url}/v2/models/churn").json()
            types = {i["name"]: i["datatype"] for i in meta["inputs"]}
            assert types == {"age": "FP64", "income": "FP64", "plan": "BYTES"}
        finally:
            stop(proc)
        text = log.read_text()
        assert "no baseline" not in text and "content hash" not in text, text
        detail = httpx.get(f"{keeneye_url}/v1/models/churn").json()
        assert detail["live_version"] == "3"
        references = {r["version"]: r for r in detail["drift_references"]}
        assert references["3"] == {
            "version": "3",
            "reference": "baseline",
            "baseline_version": "3",
            "reason": "the version's own training data",
        }
        # the hash version (live before) now falls back to the live version's baseline
        assert references[digest]["baseline_version"] == "3"
        assert references[digest]["reason"] == "the live version's training data"

        # The same file again without --version: the version keeneye registered for it.
        proc, url, log = _serve(path, keeneye_url, tmp_path)
        try:
            answer = httpx.post(f"{url}/predict", json={"records": batch.to_dict("records")})
            assert answer.json()["version"] == "3"
        finally:
            stop(proc)
    finally:
        stop(keeneye)
    store = open_store(str(store_path))
    try:
        now = datetime.now(UTC)
        events = store.read_window("churn", now - timedelta(hours=2), now + timedelta(hours=1))
        assert events.events.num_rows == 10
        assert set(events.events["version"].to_pylist()) == {"3"}
    finally:
        store.close()
