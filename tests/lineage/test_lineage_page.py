"""The lineage page in headless Chromium for a model served from MLflow
(``keeneye serve-model models:/churn/1``) whose baseline came from a DVC revision: the run's
parameters, metrics and git commit, the DVC revision and md5, the live period — and no console
errors, failed requests or off-server requests."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.lineage.dvc_repo import make_repo
from tests.modelserver.conftest import BIN, spawn, start_listening, stop, url_of, wait_for
from tests.modelserver.models import FEATURES, fit, training_frame

MODEL = "churn"


def register_run(commit: str) -> tuple[str, str]:
    """A run with parameters, a metric and its code's git commit; its model registered as a
    new version of ``churn``. Returns (version, run id)."""
    import mlflow
    from mlflow.models import infer_signature

    frame = training_frame(seed=0)
    model = fit(frame, c=0.5)
    with mlflow.start_run() as run:
        mlflow.log_params({"C": 0.5, "max_iter": 200})
        mlflow.log_metric("val_auc", 0.8731)
        mlflow.set_tag("mlflow.source.git.commit", commit)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(frame[FEATURES], model.predict(frame[FEATURES])),
            registered_model_name=MODEL,
            pip_requirements=["scikit-learn"],
        )
    return str(info.registered_model_version), run.info.run_id


@pytest.mark.e2e
def test_lineage_page_of_an_mlflow_model_with_a_dvc_baseline(
    mlflow_server: str,
    quiet_mlflow: None,
    watched: Callable[[], Any],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    repo = make_repo(tmp_path / "data")
    code_commit = repo.commit("v1")
    version, run_id = register_run(code_commit)
    env = {"MLFLOW_TRACKING_URI": mlflow_server}
    keeneye, log = spawn(
        [str(BIN / "keeneye"), "server", "--store", str(tmp_path / "k.duckdb"), "--port", "0"],
        cwd=tmp_path,
        env=env,
    )
    request.addfinalizer(lambda: halt(keeneye))
    url = url_of(keeneye, log)
    served, served_url = start_listening(
        [
            str(BIN / "keeneye"),
            "serve-model",
            f"models:/{MODEL}/{version}",
            "--port",
            "0",
            "--keeneye-url",
            url,
        ],
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    request.addfinalizer(lambda: halt(served))
    wait_for("model ready", lambda: httpx.get(f"{served_url}/v2/health/ready").is_success, 60)
    records = training_frame(seed=3, rows=5)[FEATURES].to_dict(orient="records")
    answer = httpx.post(f"{served_url}/predict", json={"records": records}, timeout=30)
    assert answer.status_code == 200, answer.text
    registered = subprocess_register(url, version, repo.uri("v1"))
    assert registered.returncode == 0, registered.stderr

    lineage = httpx.get(f"{url}/v1/models/{MODEL}/versions/{version}/lineage", timeout=60)
    assert lineage.status_code == 200, lineage.text
    body = lineage.json()
    assert body["model_uri"] == f"models:/{MODEL}/{version}"
    assert body["mlflow_run"]["run_id"] == run_id
    assert body["mlflow_run"]["params"] == {"C": "0.5", "max_iter": "200"}
    assert body["mlflow_run"]["metrics"] == {"val_auc": 0.8731}
    assert body["mlflow_run"]["git_commit"] == code_commit
    assert [p["until"] for p in body["live"]] == [None]

    w = watched()
    response = w.open(f"{url}/models/{MODEL}")
    assert response.status == 200
    w.page.click(f"#versions-table a.lineage-link:text('v{version}')")
    w.page.wait_for_selector("#lineage-title")
    w.page.wait_for_function("document.body.dataset.chartsReady === 'true'", timeout=30_000)
    page = w.page
    assert page.url.endswith(f"/models/{MODEL}/versions/{version}/lineage")
    assert page.inner_text("#model-uri") == f"models:/{MODEL}/{version}"
    assert page.inner_text("#mlflow-run-id") == run_id
    assert page.inner_text("#git-commit") == code_commit
    assert page.inner_text("#run-params tr[data-param='C'] td:nth-child(2)") == "0.5"
    assert page.inner_text("#run-metrics tr[data-metric='val_auc'] td:nth-child(2)") == "0.8731"
    row = page.locator("#sources-table tr[data-kind='dvc']")
    assert row.count() == 1
    text = row.inner_text()
    assert "v1" in text and repo.md5("v1") in text and code_commit[:12] in text
    assert "current" in text and "120" in text
    assert page.locator("#reference-table tbody tr").count() == 3
    assert "live" in page.inner_text("#live-table")
    assert page.locator("#mlflow-problem").count() == 0
    w.shot("lineage")
    assert w.problems == []

    missing = httpx.get(f"{url}/models/{MODEL}/versions/99/lineage", timeout=30)
    assert missing.status_code == 404 and "has no version" in missing.text


def halt(proc: subprocess.Popen[str]) -> None:
    stop(proc)
    if proc.stdout is not None:
        proc.stdout.close()


def subprocess_register(url: str, version: str, source: str) -> Any:
    return subprocess.run(
        [str(BIN / "keeneye"), "baseline", "register", MODEL, version, source, "--url", url],
        capture_output=True,
        text=True,
        timeout=300,
    )
