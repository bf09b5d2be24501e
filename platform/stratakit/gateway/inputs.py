"""A model's input contract (from its MLflow signature) and the validation of request data.

Everything here is pure: request data in, typed arrays out, or an :class:`InputError` whose
message names the offending field. The web layer turns that error into a 4xx, so bad input
can never reach the model and never becomes a 5xx.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from stratakit.errors import InputError

#: MLflow column types, by how a JSON value of that type looks.
NUMERIC_KINDS = frozenset({"double", "float", "long", "integer"})
_INT_LIMITS = {"long": 2**63, "integer": 2**31}
_NUMPY_DTYPE = {
    "double": np.float64,
    "float": np.float32,
    "long": np.int64,
    "integer": np.int32,
    "boolean": np.bool_,
}
#: Open Inference Protocol v2 datatype of each MLflow column type.
OIP_DATATYPE = {
    "double": "FP64",
    "float": "FP32",
    "long": "INT64",
    "integer": "INT32",
    "boolean": "BOOL",
    "string": "BYTES",
    "binary": "BYTES",
    "datetime": "BYTES",
}
_JSON_TYPE = {
    "double": "number",
    "float": "number",
    "long": "integer",
    "integer": "integer",
    "boolean": "boolean",
}


@dataclass(frozen=True)
class Column:
    """One named input of a column-based signature."""

    name: str
    kind: str
    required: bool = True

    @property
    def datatype(self) -> str:
        """The Open Inference Protocol datatype clients should send."""
        return OIP_DATATYPE.get(self.kind, "BYTES")

    def json_schema(self) -> dict[str, Any]:
        """JSON Schema of one value of this column (``null`` allowed when optional)."""
        item: dict[str, Any] = {"type": _JSON_TYPE.get(self.kind, "string")}
        if self.kind in _INT_LIMITS:
            limit = _INT_LIMITS[self.kind]
            item |= {"minimum": -limit, "maximum": limit - 1}
        if not self.required:
            item = {"anyOf": [item, {"type": "null"}]}
        return item


@dataclass(frozen=True)
class Tensor:
    """One input of a tensor-based signature; ``-1`` in ``shape`` means any size."""

    name: str | None
    dtype: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class InputSpec:
    """What a model takes: named columns, tensors, or (without a signature) anything."""

    columns: tuple[Column, ...] = ()
    tensors: tuple[Tensor, ...] = ()

    @classmethod
    def from_signature(cls, schema: Any) -> InputSpec:
        """Build from an MLflow input ``Schema`` (``None`` when the model has no signature)."""
        if schema is None:
            return cls()
        if schema.is_tensor_spec():
            return cls(
                tensors=tuple(
                    Tensor(spec.name, np.dtype(spec.type).str, tuple(spec.shape))
                    for spec in schema.inputs
                )
            )
        columns = []
        for position, spec in enumerate(schema.inputs):
            kind = getattr(spec.type, "name", None) or str(spec.type)
            columns.append(Column(spec.name or str(position), kind, bool(spec.required)))
        return cls(columns=tuple(columns))

    @property
    def names(self) -> tuple[str, ...]:
        """Column names, in signature order."""
        return tuple(column.name for column in self.columns)

    @property
    def numeric(self) -> bool:
        """All inputs are numbers, so the model can take one float matrix (the fast path)."""
        if self.tensors:
            return len(self.tensors) == 1
        return bool(self.columns) and all(c.kind in NUMERIC_KINDS for c in self.columns)


@dataclass(frozen=True)
class Batch:
    """Validated request data: one array per column, or one tensor, and the row count."""

    rows: int
    columns: Mapping[str, np.ndarray] | None = None
    tensor: np.ndarray | None = None
    raw: Any = None
    """Data of a model without a signature, passed on untouched."""


def parse_json(body: bytes) -> Any:
    """The decoded body; an empty or malformed body is a 400 that says where it broke."""
    if not body.strip():
        raise InputError("the request body is empty; send a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"the request body is not valid JSON: {exc}") from None


# -- column-based inputs ---------------------------------------------------------------


def columns_batch(spec: InputSpec, data: Mapping[str, Any]) -> Batch:
    """Validate column-oriented data (``{name: [values...]}``) against the signature."""
    if not isinstance(data, Mapping) or not data:
        raise InputError(f"expected the inputs {_listing(spec.names)}, got none")
    known = set(spec.names)
    for name in data:
        if name not in known:
            raise InputError(f"unexpected input '{name}'; the model takes {_listing(spec.names)}")
    rows: int | None = None
    arrays: dict[str, np.ndarray] = {}
    for column in spec.columns:
        if column.name not in data:
            if column.required:
                raise InputError(f"missing input '{column.name}' ({column.kind})")
            continue
        values = data[column.name]
        if isinstance(values, np.ndarray):  # a tensor of the binary extension
            values = values.reshape(-1)
        elif not isinstance(values, list):
            values = [values]
        if rows is None:
            rows = len(values)
        elif len(values) != rows:
            raise InputError(
                f"input '{column.name}' has {len(values)} values but earlier inputs have {rows}"
            )
        arrays[column.name] = (
            convert_array(column, values)
            if isinstance(values, np.ndarray)
            else convert_column(column, values)
        )
    if not rows:
        raise InputError("the request holds no rows to predict")
    for column in spec.columns:
        if column.name not in arrays:
            arrays[column.name] = np.full(rows, np.nan)
    return Batch(rows=rows, columns=arrays)


def records_batch(spec: InputSpec, records: Any) -> Batch:
    """Validate row-oriented data (``[{name: value, ...}, ...]``)."""
    if not isinstance(records, list) or not records:
        raise InputError("expected a non-empty list of records (one object per row)")
    for row, record in enumerate(records):
        if not isinstance(record, dict):
            raise InputError(f"row {row} is {_kind(record)}; each record must be an object")
    names = {name for record in records for name in record}
    return columns_batch(spec, {name: [record.get(name) for record in records] for name in names})


def split_batch(spec: InputSpec, split: Any) -> Batch:
    """Validate pandas' ``split`` orientation (``{"columns": [...], "data": [[...], ...]}``)."""
    if not isinstance(split, dict):
        raise InputError("dataframe_split must be an object with 'columns' and 'data'")
    columns = split.get("columns", list(spec.names))
    data = split.get("data")
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise InputError("dataframe_split.columns must be a list of column names")
    if len(set(columns)) != len(columns):
        raise InputError("dataframe_split.columns names a column twice")
    if not isinstance(data, list) or not data:
        raise InputError("dataframe_split.data must be a non-empty list of rows")
    for row, values in enumerate(data):
        if not isinstance(values, list) or len(values) != len(columns):
            raise InputError(
                f"dataframe_split.data row {row} must be a list of {len(columns)} values"
            )
    return columns_batch(
        spec, {name: [values[i] for values in data] for i, name in enumerate(columns)}
    )


def convert_column(column: Column, values: list[Any]) -> np.ndarray:
    """One column's values as a typed array; the error names the column, row and value."""
    kind = column.kind
    if kind in NUMERIC_KINDS:
        integral = kind in _INT_LIMITS
        for row, value in enumerate(values):
            kind_of = type(value)
            if kind_of is int and integral:
                if not -_INT_LIMITS[kind] <= value < _INT_LIMITS[kind]:
                    raise _bad(column, row, value, f"an integer that fits {kind}")
            elif kind_of is int or (kind_of is float and not integral):
                if kind_of is float and not math.isfinite(value):
                    raise _bad(column, row, value, "a finite number")
                if kind_of is int and abs(value) > 2**1023:
                    raise _bad(column, row, value, "a number within float range")
            elif value is None and not column.required and not integral:
                continue
            else:
                raise _bad(column, row, value, "an integer" if integral else "a number")
        return np.array([math.nan if v is None else v for v in values], dtype=_NUMPY_DTYPE[kind])
    if kind == "boolean":
        for row, value in enumerate(values):
            if type(value) is not bool:
                raise _bad(column, row, value, "true or false")
        return np.array(values, dtype=np.bool_)
    for row, value in enumerate(values):
        if not isinstance(value, str) and not (value is None and not column.required):
            raise _bad(column, row, value, "a string")
    if kind == "datetime":
        try:
            return np.array(values, dtype="datetime64[ns]")
        except ValueError as exc:
            raise InputError(
                f"input '{column.name}': expected ISO 8601 timestamps ({exc})"
            ) from None
    return np.array(values, dtype=object)


def convert_array(column: Column, array: np.ndarray) -> np.ndarray:
    """A binary tensor's values as the column's array: :func:`convert_column`'s checks.

    Vectorised: numbers are cast without a Python loop, and without a copy when the
    datatype is already the column's.
    """
    kind = column.kind
    if kind in NUMERIC_KINDS:
        integral = kind in _INT_LIMITS
        if array.dtype.kind not in ("iu" if integral else "iuf"):
            wanted = "integers" if integral else "numbers"
            raise InputError(
                f"input '{column.name}' ({kind}): expected {wanted}, got {array.dtype.name} "
                f"values; send {column.datatype}"
            )
        if array.dtype.kind == "f":
            bad = np.flatnonzero(~np.isfinite(array))
            if bad.size:
                raise _bad(column, int(bad[0]), float(array[bad[0]]), "a finite number")
        elif integral and array.size:
            limit = _INT_LIMITS[kind]
            bad = np.flatnonzero((array < -limit) | (array > limit - 1))
            if bad.size:
                raise _bad(column, int(bad[0]), int(array[bad[0]]), f"an integer that fits {kind}")
        return array.astype(_NUMPY_DTYPE[kind], copy=False)
    if kind == "boolean":
        if array.dtype.kind != "b":
            raise InputError(
                f"input '{column.name}' (boolean): expected BOOL values, got {array.dtype.name}"
            )
        return array
    if array.dtype.kind != "O":
        raise InputError(
            f"input '{column.name}' ({kind}): expected BYTES values, got {array.dtype.name}"
        )
    if kind == "binary":
        return array
    values: list[Any] = list(array)
    for row, value in enumerate(values):
        try:
            values[row] = value.decode() if isinstance(value, bytes) else value
        except UnicodeDecodeError:
            raise InputError(
                f"input '{column.name}' ({kind}) row {row}: the bytes are not UTF-8 text"
            ) from None
    return convert_column(column, values)


# -- tensor-based inputs ---------------------------------------------------------------


def tensor_batch(spec: InputSpec, data: Any, shape: Sequence[int] | None = None) -> Batch:
    """Validate one tensor (nested lists, or flat data plus ``shape``) against the signature."""
    expected = spec.tensors[0]
    dtype = np.dtype(expected.dtype)
    try:
        array = np.asarray(data)
        if shape is not None:
            array = array.reshape(tuple(shape))
    except (ValueError, TypeError) as exc:
        raise InputError(f"the tensor is malformed: {exc}") from None
    if array.dtype.kind not in _COMPATIBLE.get(dtype.kind, dtype.kind):
        raise InputError(
            f"tensor{_named(expected)}: expected {dtype.name} values, got {array.dtype.name}"
        )
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise InputError(f"tensor{_named(expected)}: values must be finite numbers")
    if array.ndim != len(expected.shape) or any(
        want not in (-1, got) for want, got in zip(expected.shape, array.shape, strict=False)
    ):
        raise InputError(
            f"tensor{_named(expected)}: expected shape {_shape(expected.shape)}, "
            f"got {_shape(array.shape)}"
        )
    if array.ndim == 0 or array.shape[0] == 0:
        raise InputError("the request holds no rows to predict")
    try:
        converted = array.astype(dtype, casting="same_kind" if dtype.kind == "f" else "safe")
    except TypeError as exc:
        raise InputError(f"tensor{_named(expected)}: {exc}") from None
    return Batch(rows=int(array.shape[0]), tensor=converted)


_COMPATIBLE = {"f": "fiu", "i": "iu", "u": "u", "b": "b"}


# -- helpers ---------------------------------------------------------------------------


def _bad(column: Column, row: int, value: Any, wanted: str) -> InputError:
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return InputError(
        f"input '{column.name}' ({column.kind}) row {row}: expected {wanted}, "
        f"got {shown} ({_kind(value)})"
    )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(
        type(value), "array" if isinstance(value, list) else "object"
    )


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:12])
    return shown + (f" and {len(names) - 12} more" if len(names) > 12 else "")


def _named(tensor: Tensor) -> str:
    return f" '{tensor.name}'" if tensor.name else ""


def _shape(shape: Sequence[int]) -> str:
    return "[" + ", ".join("*" if d == -1 else str(d) for d in shape) + "]"
