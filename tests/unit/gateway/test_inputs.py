"""Request validation against a model's signature: typed arrays out, or a 4xx naming the field."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from stratakit.errors import InputError
from stratakit.gateway import protocols
from stratakit.gateway.inputs import (
    Column,
    InputSpec,
    Tensor,
    columns_batch,
    records_batch,
    split_batch,
    tensor_batch,
)

SPEC = InputSpec(
    columns=(
        Column("tenure", "double"),
        Column("tickets", "long"),
        Column("plan", "string"),
        Column("discount", "double", required=False),
    )
)
TENSOR = InputSpec(tensors=(Tensor(None, np.dtype("float32").str, (-1, 3)),))


def test_columns_become_typed_arrays() -> None:
    batch = columns_batch(SPEC, {"tenure": [1, 2.5], "tickets": [0, 3], "plan": ["a", "b"]})
    assert batch.rows == 2
    assert batch.columns is not None
    assert batch.columns["tenure"].dtype == np.float64
    assert batch.columns["tickets"].tolist() == [0, 3]
    assert np.isnan(batch.columns["discount"]).all()  # optional and absent


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"tenure": ["x"], "tickets": [1], "plan": ["a"]}, "input 'tenure' (double) row 0"),
        ({"tenure": [True], "tickets": [1], "plan": ["a"]}, "got True (boolean)"),
        ({"tenure": [1.0], "tickets": [1.5], "plan": ["a"]}, "'tickets' (long) row 0"),
        ({"tenure": [1.0], "tickets": [2**70], "plan": ["a"]}, "fits long"),
        ({"tenure": [float("inf")], "tickets": [1], "plan": ["a"]}, "a finite number"),
        ({"tenure": [None], "tickets": [1], "plan": ["a"]}, "got None (null)"),
        ({"tenure": [1.0], "tickets": [1], "plan": [3]}, "'plan' (string) row 0"),
        ({"tenure": [1.0], "plan": ["a"]}, "missing input 'tickets'"),
        ({"tenure": [1.0], "tickets": [1], "plan": ["a"], "zip": [1]}, "unexpected input 'zip'"),
        ({"tenure": [1.0, 2.0], "tickets": [1], "plan": ["a"]}, "has 1 values"),
        ({"tenure": [], "tickets": [], "plan": []}, "no rows"),
        ({}, "expected the inputs"),
    ],
)
def test_bad_columns_name_the_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        columns_batch(SPEC, data)
    assert err.value.status == 400


def test_records_and_split_agree_with_columns() -> None:
    rows = [{"tenure": 1.0, "tickets": 2, "plan": "a"}, {"tenure": 3.0, "tickets": 4, "plan": "b"}]
    by_records = records_batch(SPEC, rows)
    by_split = split_batch(
        SPEC, {"columns": ["tenure", "tickets", "plan"], "data": [[1.0, 2, "a"], [3.0, 4, "b"]]}
    )
    assert by_records.columns is not None and by_split.columns is not None
    for name in ("tenure", "tickets", "plan"):
        assert by_records.columns[name].tolist() == by_split.columns[name].tolist()
    with pytest.raises(InputError, match="row 1 is string"):
        records_batch(SPEC, [rows[0], "nope"])
    with pytest.raises(InputError, match="row 0 must be a list of 3"):
        split_batch(SPEC, {"columns": ["tenure", "tickets", "plan"], "data": [[1.0]]})


def test_tensors_check_dtype_and_shape() -> None:
    batch = tensor_batch(TENSOR, [[1, 2, 3], [4, 5, 6]])
    assert batch.tensor is not None and batch.tensor.dtype == np.float32 and batch.rows == 2
    assert tensor_batch(TENSOR, [1, 2, 3, 4, 5, 6], shape=[2, 3]).rows == 2
    for data, message in (
        ([[1, 2]], r"expected shape \[\*, 3\], got \[1, 2\]"),
        ([["a", "b", "c"]], "expected float32 values"),
        ([[1, 2], [3]], "malformed"),
        ([[1, 2, float("nan")]], "finite"),
    ):
        with pytest.raises(InputError, match=message):
            tensor_batch(TENSOR, data)


def test_open_inference_request_maps_tensors_to_columns() -> None:
    body = {
        "id": "r-1",
        "inputs": [
            {"name": "tenure", "shape": [2, 1], "datatype": "FP64", "data": [[1.0], [2.0]]},
            {"name": "tickets", "shape": [2], "datatype": "INT64", "data": [1, 2]},
            {"name": "plan", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]},
        ],
    }
    batch, request_id = protocols.v2_batch(SPEC, body)
    assert request_id == "r-1" and batch.rows == 2
    bad_shape = {"inputs": [{**body["inputs"][1], "shape": [3]}]}  # type: ignore[dict-item]
    with pytest.raises(InputError, match=r"shape \[3\] needs 3 values, got 2"):
        protocols.v2_batch(SPEC, bad_shape)
    wrong_type = {"inputs": [{**body["inputs"][2], "datatype": "FP64"}]}  # type: ignore[dict-item]
    with pytest.raises(InputError, match="datatype FP64 does not fit string; send BYTES"):
        protocols.v2_batch(SPEC, wrong_type)
    for broken, message in (
        ([], "JSON object"),
        ({"inputs": []}, "non-empty list"),
        ({"inputs": [{"name": 3}]}, "name must be a non-empty string"),
        ({"inputs": [{"name": "tenure", "shape": "2"}]}, "shape must be a list"),
        ({"inputs": [body["inputs"][0], body["inputs"][0]]}, "given twice"),  # type: ignore[index]
        ({"id": 5, "inputs": body["inputs"]}, "'id' must be a string"),
    ):
        with pytest.raises(InputError, match=message):
            protocols.v2_batch(SPEC, broken)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"", "application/json", 400, "empty"),
        (b"{nope", "application/json", 400, "not valid JSON"),
        (b"[1, 2]", "application/json", 400, "JSON object"),
        (b'{"instances": [], "inputs": []}', "application/json", 400, "exactly one"),
        (b'{"dataframe_records": [], "extra": 1}', "application/json", 400, "unexpected field"),
        (b'{"dataframe_records": [{}], "params": {"k": 1}}', "application/json", 400, "params"),
        (b"tenure\n1", "text/plain", 415, "unsupported content type"),
        (b"\x00\xff", "text/csv", 400, "CSV body cannot be read"),
        (b"", "text/csv", 400, "CSV body cannot be read"),
    ],
)
def test_invocations_rejects_malformed_bodies(
    body: bytes, content_type: str, status: int, message: str
) -> None:
    with pytest.raises(InputError, match=message) as err:
        protocols.invocations_batch(SPEC, body, content_type)
    assert err.value.status == status


def test_invocations_accepts_every_mlflow_shape() -> None:
    row = {"tenure": 1.5, "tickets": 2, "plan": "a", "discount": 0.1}
    bodies = [
        ({"dataframe_records": [row]}, "application/json"),
        (
            {"dataframe_split": {"columns": list(row), "data": [list(row.values())]}},
            "application/json",
        ),
        ({"instances": [row]}, "application/json"),
        ({"inputs": {k: [v] for k, v in row.items()}}, "application/json"),
        ({"instances": [list(row.values())]}, "application/json; charset=utf-8"),
    ]
    for body, content_type in bodies:
        batch = protocols.invocations_batch(SPEC, protocols.dumps(body), content_type)
        assert batch.columns is not None and batch.columns["tickets"].tolist() == [2], body
    csv = protocols.invocations_batch(SPEC, b"tenure,tickets,plan\n1.5,2,a\n", "text/csv")
    assert csv.columns is not None and np.isnan(csv.columns["discount"]).all()
    assert csv.columns is not None and csv.columns["tenure"].tolist() == [1.5]


def test_openapi_schema_of_a_column() -> None:
    assert Column("n", "long").json_schema() == {
        "type": "integer",
        "minimum": -(2**63),
        "maximum": 2**63 - 1,
    }
    assert Column("x", "double", required=False).json_schema() == {
        "anyOf": [{"type": "number"}, {"type": "null"}]
    }


def _strings(*values: bytes) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def test_binary_tensors_are_checked_like_json_values() -> None:
    tenure = np.array([1.5, 2.0], dtype="<f8")
    batch = columns_batch(
        SPEC,
        {"tenure": tenure, "tickets": np.array([0, 3], "<i4"), "plan": _strings(b"a", b"\xc3\xa9")},
    )
    assert batch.columns is not None
    assert np.shares_memory(batch.columns["tenure"], tenure)  # no copy: already float64
    assert batch.columns["tickets"].dtype == np.int64
    assert batch.columns["plan"].tolist() == ["a", "é"]
    for data, needle in (
        ({"tickets": np.array([1.0, 2.0])}, "input 'tickets' (long): expected integers"),
        ({"tickets": np.array([1, 2**64 - 1], np.uint64)}, "'tickets' (long) row 1"),
        ({"tenure": np.array([1.0, np.inf])}, "'tenure' (double) row 1: expected a finite"),
        ({"tenure": np.array([True, False])}, "'tenure' (double): expected numbers"),
        ({"plan": _strings(b"ok", b"\xff")}, "'plan' (string) row 1: the bytes are not UTF-8"),
        ({"plan": np.array([1, 2])}, "'plan' (string): expected BYTES"),
        ({"tenure": np.array([1.0]), "tickets": np.array([1, 2])}, "has 2 values"),
    ):
        full = {"tenure": np.array([1.0, 2.0]), "tickets": np.array([1, 2]), "plan": ["a", "b"]}
        with pytest.raises(InputError, match=needle.replace("(", r"\(").replace(")", r"\)")):
            columns_batch(SPEC, full | data)
