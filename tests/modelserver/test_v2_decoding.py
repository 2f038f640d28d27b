"""V2 request decoding and /predict record checks: what is accepted, and which input a refusal
names."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from keeneye.modelserver.signature import InputColumn, ModelInputs, TensorInput
from keeneye.modelserver.v2 import datatype_of, decode_request, encode_outputs
from keeneye.server.errors import ApiError

COLUMNS = ModelInputs.from_columns(
    [
        InputColumn("age", "long"),
        InputColumn("income", "double"),
        InputColumn("plan", "string"),
        InputColumn("vip", "boolean", required=False),
    ]
)
TENSOR = ModelInputs(tensor=TensorInput("float64", 3))


def tensor(name: str, data: list[Any], datatype: str, shape: list[int] | None = None) -> Any:
    return {"name": name, "shape": shape or [len(data)], "datatype": datatype, "data": data}


GOOD = [
    tensor("age", [30, 41], "INT64"),
    tensor("income", [10, 2.5], "FP64"),  # an integer is a valid double
    tensor("plan", ["pro", "basic"], "BYTES"),
]


def test_columns_become_a_frame_with_the_signature_dtypes() -> None:
    frame = decode_request({"inputs": GOOD}, COLUMNS).frame
    assert frame.dtypes.astype(str).tolist()[:2] == ["int64", "float64"]
    assert frame["plan"].tolist() == ["pro", "basic"]
    assert frame["income"].tolist() == [10.0, 2.5]
    assert frame["vip"].tolist() == [None, None]  # optional and absent


def test_nested_column_data_and_nan_are_accepted() -> None:
    nested = [*GOOD[:1], tensor("income", [[1.0], [float("nan")]], "FP64", [2, 1]), GOOD[2]]
    frame = decode_request({"inputs": nested}, COLUMNS).frame
    assert np.isnan(frame["income"][1])


@pytest.mark.parametrize(
    ("inputs", "name", "fragment"),
    [
        ([GOOD[0], {**GOOD[1], "shape": [3]}, GOOD[2]], "income", "needs 3 values"),
        ([GOOD[0], tensor("income", [1.0, 2.0, 3.0], "FP64"), GOOD[2]], "income", "has 3 rows"),
        ([{**GOOD[0], "shape": [1, 2]}, *GOOD[1:]], "age", "not one column"),
        ([tensor("age", [1.5, 2.0], "FP64"), *GOOD[1:]], "age", "send INT64"),
        ([tensor("age", [1, "x"], "INT64"), *GOOD[1:]], "age", "value 1 is 'x'"),
        ([tensor("age", [True, 1], "INT64"), *GOOD[1:]], "age", "not a valid INT64"),
        ([*GOOD[:2], tensor("plan", [1, 2], "INT64")], "plan", "send BYTES"),
        (GOOD[:2], "plan", "is missing"),
        ([*GOOD, tensor("colour", ["red", "blue"], "BYTES")], "colour", "not an input"),
        ([*GOOD, GOOD[0]], "age", "appears twice"),
        ([{**GOOD[0], "datatype": "INT128"}, *GOOD[1:]], "age", "datatype 'INT128' is unknown"),
        ([{**GOOD[0], "shape": [-1]}, *GOOD[1:]], "age", "non-negative"),
        ([{**GOOD[0], "data": "30,41"}, *GOOD[1:]], "age", "data must be a list"),
    ],
)
def test_bad_inputs_are_refused_naming_the_input(
    inputs: list[Any], name: str, fragment: str
) -> None:
    with pytest.raises(ApiError, match=fragment) as caught:
        decode_request({"inputs": inputs}, COLUMNS)
    assert caught.value.status == 400
    assert caught.value.code == "invalid_input"
    assert caught.value.details["input"] == name
    assert caught.value.message.startswith(f"{name}: ")


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ([1, 2], "expected a JSON object"),
        ({"inputs": []}, "non-empty list"),
        ({"inputs": [7]}, r"inputs\[0\]: expected an object"),
        ({"inputs": [{"shape": [1], "datatype": "FP64", "data": [1]}]}, r"inputs\[0\].name"),
        ({"inputs": GOOD, "outputs": "predict"}, "outputs"),
    ],
)
def test_malformed_envelopes_are_invalid_requests(payload: Any, fragment: str) -> None:
    with pytest.raises(ApiError, match=fragment) as caught:
        decode_request(payload, COLUMNS)
    assert (caught.value.status, caught.value.code) == (400, "invalid_request")


def test_tensor_models_take_one_n_by_k_input() -> None:
    good = tensor("input-0", [[1, 2, 3], [4, 5, 6]], "FP32", [2, 3])
    array = decode_request({"inputs": [good]}, TENSOR).frame
    assert array.dtype == np.float64 and array.shape == (2, 3)
    with pytest.raises(ApiError, match=r"send shape \[n, 3\]"):
        decode_request({"inputs": [tensor("input-0", [1, 2, 3, 4], "FP64", [2, 2])]}, TENSOR)
    with pytest.raises(ApiError, match="one tensor input"):
        decode_request({"inputs": [good, {**good, "name": "extra"}]}, TENSOR)


def test_without_signature_the_request_names_and_datatypes_make_the_frame() -> None:
    frame = decode_request({"inputs": GOOD}, None).frame
    assert frame.dtypes.astype(str).tolist()[:2] == ["int64", "float64"]
    assert list(frame.columns) == ["age", "income", "plan"]


def test_records_are_checked_feature_by_feature() -> None:
    good = {"age": 30, "income": 1.5, "plan": "pro", "vip": True}
    assert COLUMNS.frame_from_records([good])["vip"].tolist() == [True]
    cases = [
        ({**good, "age": 30.5}, "records[0].age", "expected an integer"),
        ({**good, "plan": None}, "records[0].plan", "is required"),
        ({k: v for k, v in good.items() if k != "income"}, "records[0].income", "is missing"),
        ({**good, "colour": "red"}, "records[0].colour", "not an input"),
    ]
    for record, name, fragment in cases:
        with pytest.raises(ApiError, match=fragment) as caught:
            COLUMNS.frame_from_records([good, record][1:])
        assert caught.value.details["input"] == name
    with pytest.raises(ApiError, match="non-empty list"):
        COLUMNS.frame_from_records([])


def test_outputs_carry_datatypes_shapes_and_classes() -> None:
    outputs = encode_outputs(
        np.array(["no", "yes"], dtype=object),
        np.array([[0.9, 0.1], [0.2, 0.8]]),
        ["no", "yes"],
        None,
    )
    assert [o["name"] for o in outputs] == ["predict", "predict_proba"]
    assert outputs[0]["datatype"] == "BYTES" and outputs[1]["shape"] == [2, 2]
    assert outputs[1]["parameters"] == {"classes": ["no", "yes"]}
    only = encode_outputs(np.array([1.5]), None, None, ("predict",))
    assert only == [{"name": "predict", "shape": [1], "datatype": "FP64", "data": [1.5]}]
    assert datatype_of(np.array([True])) == "BOOL"
    assert datatype_of(np.array([1], dtype="uint8")) == "UINT8"
