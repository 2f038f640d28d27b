"""``keeneye serve-model``'s OpenAPI document states what it accepts and answers: request bodies
of V2 infer and ``/predict``, 4xx answers in keeneye's error envelope, ``/metrics`` as text.
Schemathesis fuzzes a running server (all checks; the one exception is in
``schemathesis-modelserver.toml``) and must find no 5xx and no schema violation; real
predictions are checked against the documented 200 bodies.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
import skops.io as sio
from tests.hardening.conftest import serve_model
from tests.hardening.test_fuzz import SCHEMATHESIS
from tests.modelserver.models import FEATURES, fit, training_frame, v2_inputs

CONFIG = Path(__file__).with_name("schemathesis-modelserver.toml")
NOBODY = "http://127.0.0.1:9"  # no collector: events are dropped and counted, serving goes on


def response_schema(document: dict[str, Any], path: str, status: str) -> dict[str, Any]:
    content = document["paths"][path]["post"]["responses"][status]["content"]
    schema: dict[str, Any] = content["application/json"]["schema"]
    return {**schema, "components": document["components"]}


def check(document: dict[str, Any], path: str, answer: httpx.Response) -> None:
    """``answer``'s body is valid against the document's schema for its status."""
    schema = response_schema(document, path, str(answer.status_code))
    jsonschema_rs.validator_for(schema).validate(answer.json())


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_serve_model_matches_its_openapi_document(tmp_path: Path) -> None:
    model = tmp_path / "churn.skops"
    frame = training_frame(seed=1, rows=5)
    sio.dump(fit(training_frame(seed=1)), model)
    with serve_model(model, "--keeneye-url", NOBODY, cwd=tmp_path) as url:
        client = httpx.Client(base_url=url, timeout=30)
        document = client.get("/openapi.json").json()
        paths = document["paths"]
        infer = "/v2/models/{name}/infer"
        body = paths[infer]["post"]["requestBody"]["content"]["application/json"]["schema"]
        tensor = body["properties"]["inputs"]["items"]
        assert tensor["properties"]["name"]["enum"] == FEATURES
        assert paths["/predict"]["post"]["requestBody"]["required"] is True
        for status in ("400", "404", "413"):
            error = paths[infer]["post"]["responses"][status]["content"]["application/json"]
            assert error["schema"] == {"$ref": "#/components/schemas/ErrorEnvelope"}
        assert list(paths["/metrics"]["get"]["responses"]["200"]["content"]) == ["text/plain"]
        assert client.get("/metrics").headers["content-type"].startswith("text/plain")

        # real answers match the documented bodies, success and error alike
        name = paths[infer]["post"]["parameters"][0]["schema"]["enum"][0]
        ok = client.post(f"/v2/models/{name}/infer", json={"inputs": v2_inputs(frame)})
        assert ok.status_code == 200, ok.text
        check(document, infer, ok)
        records = frame[FEATURES].to_dict("records")
        ok = client.post("/predict", json={"records": records})
        assert ok.status_code == 200, ok.text
        check(document, "/predict", ok)
        odd = {"inputs": [{"name": "age", "shape": [1], "datatype": {}, "data": [1]}]}
        bad = client.post(f"/v2/models/{name}/infer", json=odd)
        assert bad.status_code == 400 and "age: datatype {}" in bad.json()["error"]["message"]
        check(document, infer, bad)

        result = subprocess.run(
            [
                SCHEMATHESIS,
                "--config-file",
                str(CONFIG),
                "run",
                f"{url}/openapi.json",
                "--max-examples",
                "4",
                "--phases",
                "examples,coverage,fuzzing",
                "--seed",
                "20261202",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=280,
            cwd=tmp_path,  # schemathesis keeps its cache in the working directory
        )
    tail = result.stdout[-6000:]
    assert result.returncode == 0, tail
    summary = tail.split("SUMMARY")[-1]
    assert " passed" in summary and "failed" not in summary and "failure" not in summary, tail
