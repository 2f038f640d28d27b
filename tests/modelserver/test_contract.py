"""The request bodies serve-model documents for a model with a typed (MLflow) signature: the
input names, datatypes and value types it states accept the documented example and refuse
what the server refuses."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
from tests.modelserver.models import fit, training_frame

from keeneye.modelserver import contract
from keeneye.modelserver.loading import LoadedModel
from keeneye.modelserver.signature import InputColumn, ModelInputs

NUMERIC = [InputColumn("age", "long"), InputColumn("income", "double")]


def typed_model(optional_plan: bool = False) -> LoadedModel:
    columns = [*NUMERIC, InputColumn("plan", "string", required=not optional_plan)]
    return LoadedModel(
        name="churn",
        version="3",
        estimator=fit(training_frame()),
        inputs=ModelInputs.from_columns(columns),
        platform="sklearn",
    )


def valid(schema: dict[str, Any], body: Any) -> bool:
    return bool(jsonschema_rs.validator_for(schema).is_valid(body))


EXAMPLE = {
    "inputs": [
        {"name": "age", "shape": [2], "datatype": "INT64", "data": [31, 58]},
        {"name": "income", "shape": [2], "datatype": "FP64", "data": [40.5, 72.0]},
        {"name": "plan", "shape": [2], "datatype": "BYTES", "data": ["pro", "basic"]},
    ],
    "outputs": [{"name": "predict_proba"}],
}


def test_infer_body_names_the_inputs_and_the_classifier_outputs() -> None:
    schema = contract.infer_request(typed_model())
    assert valid(schema, EXAMPLE)
    tensor = EXAMPLE["inputs"][0]
    for wrong in (
        {**tensor, "name": "colour"},  # not an input of the model
        {**tensor, "datatype": "FP128"},  # no such datatype
        {**tensor, "datatype": {}},  # not a string (was a 500)
        {**tensor, "shape": [-1]},  # negative dimension
        {k: v for k, v in tensor.items() if k != "data"},
    ):
        assert not valid(schema, {"inputs": [wrong]}), wrong
    assert not valid(schema, {"inputs": []})
    assert not valid(schema, {"inputs": [tensor], "outputs": [{"name": "explain"}]})


@pytest.mark.parametrize(
    ("record", "ok"),
    [
        ({"age": 31, "income": 40.5, "plan": "pro"}, True),
        ({"age": 31, "income": 40, "plan": "pro"}, True),  # an integer is a valid double
        ({"age": 31.5, "income": 40.5, "plan": "pro"}, False),  # long: no fraction
        ({"age": 31, "income": "high", "plan": "pro"}, False),
        ({"age": 31, "income": 40.5}, False),  # plan is required
        ({"age": 31, "income": 40.5, "plan": None}, False),
    ],
)
def test_predict_body_types_each_required_feature(record: dict[str, Any], ok: bool) -> None:
    assert valid(contract.predict_request(typed_model()), {"records": [record]}) is ok


def test_an_optional_feature_may_be_null_or_missing() -> None:
    schema = contract.predict_request(typed_model(optional_plan=True))
    assert valid(schema, {"records": [{"age": 31, "income": 40.5, "plan": None}]})
    assert valid(schema, {"records": [{"age": 31, "income": 40.5}]})
    assert not valid(schema, {"records": []})
