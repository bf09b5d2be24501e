"""The prediction log's parquet: one row per predicted row, columns as requests named them."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from stratakit.gateway.inputs import Batch
from stratakit.gateway.prediction_log import Entry, to_parquet


def entry(request_id: str, batch: Batch, outputs: object, at: float = 1_700_000_000.0) -> Entry:
    return Entry(at, "churn", "3", request_id, "mlflow", batch, outputs)


def read(entries: list[Entry]) -> pa.Table:
    return pq.read_table(io.BytesIO(to_parquet(entries)))


def test_named_columns_and_labels_become_typed_columns() -> None:
    first = Batch(rows=2, columns={"tenure": np.array([1.0, 2.0]), "plan": np.array(["a", "b"])})
    second = Batch(rows=1, columns={"tenure": np.array([3.0]), "plan": np.array(["c"])})
    table = read([entry("r1", first, np.array([0, 1])), entry("r2", second, np.array([1]))])
    assert table.column_names == ["request_time", "request_id", "protocol", "tenure", "plan",
                                  "prediction"]  # fmt: skip
    assert table["request_id"].to_pylist() == ["r1", "r1", "r2"]
    assert table["tenure"].to_pylist() == [1.0, 2.0, 3.0]
    assert table["plan"].to_pylist() == ["a", "b", "c"]
    assert table["prediction"].type == pa.float64()
    assert table["prediction"].to_pylist() == [0.0, 1.0, 1.0]
    assert table["request_time"].type == pa.timestamp("us", tz="UTC")


def test_probabilities_are_one_list_per_row() -> None:
    batch = Batch(rows=2, columns={"x": np.array([0.1, 0.2])})
    table = read([entry("r", batch, np.array([[0.9, 0.1], [0.3, 0.7]]))])
    assert pa.types.is_list(table["prediction"].type)
    assert table["prediction"].to_pylist() == [[0.9, 0.1], [0.3, 0.7]]


def test_tensors_beside_columns_are_kept_as_json_rows() -> None:
    columns = Batch(rows=1, columns={"x": np.array([0.5])})
    tensor = Batch(rows=2, tensor=np.array([[1.0, 2.0], [3.0, 4.0]]))
    table = read([entry("a", columns, np.array([1.0])), entry("b", tensor, np.array([0.0, 1.0]))])
    assert table.num_rows == 3
    assert table["inputs"].to_pylist() == ['{"x":0.5}', "[1.0,2.0]", "[3.0,4.0]"]
    assert table["prediction"].to_pylist() == [1.0, 0.0, 1.0]
