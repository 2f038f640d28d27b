"""The OpenAPI document is served and describes the bodies the collector parses itself."""

from __future__ import annotations

from tests.server.conftest import Api

from keeneye.server.schemas import LabelIn, PredictionEventIn


def test_openapi_documents_the_ingestion_bodies(api: Api) -> None:
    response = api.get("/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    paths = doc["paths"]
    for path, body in (
        ("/v1/models/{model}/predictions", "PredictionBatch"),
        ("/v1/models/{model}/labels", "LabelBatch"),
        ("/v1/models/{model}/versions", "VersionIn"),
    ):
        content = paths[path]["post"]["requestBody"]["content"]["application/json"]
        assert content["schema"]["$ref"] == f"#/components/schemas/{body}"
        assert body in doc["components"]["schemas"]
    for ref in _refs(doc):
        name = ref.removeprefix("#/components/schemas/")
        assert name in doc["components"]["schemas"], f"dangling $ref {ref}"
    assert {"/v1/models", "/v1/models/{model}", "/v1/health"} <= set(paths)
    errors = paths["/v1/models/{model}/predictions"]["post"]["responses"]
    assert {"400", "401", "403", "413"} <= set(errors)


def test_documented_required_fields_match_the_validator() -> None:
    """The hand-written validator (ingest.py) and the documented models agree on what is
    required: exactly the fields without defaults."""
    assert set(PredictionEventIn.model_json_schema()["required"]) == {"event_id", "inputs"}
    assert set(LabelIn.model_json_schema()["required"]) == {"event_id", "label"}


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        for value in node.values():
            found.extend(_refs(value))
        return found
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []
