"""The two wire formats, as pure functions: request data → a validated batch → response data.

* Open Inference Protocol v2 (KServe, Triton, MLServer): ``inputs`` is a list of named
  tensors (``name``, ``shape``, ``datatype``, ``data``). A column-based model takes one
  tensor per column, as MLServer's MLflow runtime does.
* MLflow's scoring format (``/invocations``): exactly one of ``dataframe_split``,
  ``dataframe_records``, ``instances`` or ``inputs``, or a CSV body.

Nothing here knows the web framework; :mod:`stratakit.gateway.app` only moves bytes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from stratakit.errors import InputError
from stratakit.gateway import binary
from stratakit.gateway.inputs import (
    Batch,
    InputSpec,
    columns_batch,
    parse_json,
    records_batch,
    split_batch,
    tensor_batch,
)
from stratakit.gateway.loading import LoadedModel
from stratakit.gateway.outputs import output_columns

MLFLOW_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_NUMERIC_DATATYPES = frozenset(
    {
        "FP16",
        "FP32",
        "FP64",
        "INT8",
        "INT16",
        "INT32",
        "INT64",
        "UINT8",
        "UINT16",
        "UINT32",
        "UINT64",
    }
)
#: What ``GET /v2`` lists in ``extensions``.
EXTENSIONS = ("binary_tensor_data",)


def dumps(payload: Any) -> bytes:
    """JSON bytes; numpy arrays and scalars are written directly, NaN becomes null."""
    return orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)


# -- Open Inference Protocol v2 --------------------------------------------------------


@dataclass(frozen=True)
class OutputChoice:
    """Which outputs the client asked for, and which of them as binary data."""

    names: tuple[str, ...] | None = None
    """The outputs to return, in order; ``None`` returns every output."""
    binary: dict[str, bool] = field(default_factory=dict)
    """Per-output ``parameters.binary_data``."""
    binary_default: bool = False
    """The request's ``parameters.binary_data_output``."""

    def is_binary(self, name: str) -> bool:
        """Whether output ``name`` goes out as raw bytes after the JSON header."""
        return self.binary.get(name, self.binary_default)


@dataclass(frozen=True)
class V2Request:
    """An inference request, its binary inputs decoded into arrays in place of ``data``."""

    body: Any
    outputs: OutputChoice


@dataclass(frozen=True)
class Encoded:
    """A response body; ``header_length`` is set when binary tensors follow the JSON."""

    body: bytes
    header_length: int | None = None


def v2_request(body: bytes, header_length: str | None) -> V2Request:
    """Parse a JSON or binary-framed request (``Inference-Header-Content-Length`` given)."""
    request, tail = binary.split(body, header_length)
    binary.attach_inputs(request, tail)
    return V2Request(body=request, outputs=_output_choice(request))


def _output_choice(request: Any) -> OutputChoice:
    if not isinstance(request, dict):
        return OutputChoice()
    parameters = request.get("parameters") or {}  # some clients send null
    if not isinstance(parameters, dict):
        raise InputError("'parameters' must be an object")
    default = parameters.get("binary_data_output", False)
    if not isinstance(default, bool):
        raise InputError("parameters.binary_data_output must be true or false")
    wanted = request.get("outputs")
    if wanted is None:
        return OutputChoice(binary_default=default)
    if not isinstance(wanted, list):
        raise InputError("'outputs' must be a list of objects with a 'name'")
    names: list[str] = []
    per_output: dict[str, bool] = {}
    for position, output in enumerate(wanted):
        name = output.get("name") if isinstance(output, dict) else None
        if not isinstance(name, str) or not name:
            raise InputError(f"outputs[{position}].name must be a non-empty string")
        options = output.get("parameters") or {}
        if not isinstance(options, dict):
            raise InputError(f"output '{name[:100]}': parameters must be an object")
        if options.get("classification"):
            raise InputError(f"output '{name[:100]}': classification is not supported")
        if "binary_data" in options:
            if not isinstance(options["binary_data"], bool):
                raise InputError(f"output '{name[:100]}': binary_data must be true or false")
            per_output[name] = options["binary_data"]
        names.append(name)
    return OutputChoice(names=tuple(names), binary=per_output, binary_default=default)


def v2_batch(spec: InputSpec, body: Any) -> tuple[Batch, str | None]:
    """Validate an inference request; returns the batch and the client's request id."""
    if not isinstance(body, dict):
        raise InputError("the request must be a JSON object with an 'inputs' list")
    request_id = body.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InputError("'id' must be a string")
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise InputError("'inputs' must be a non-empty list of tensors")
    tensors: dict[str, tuple[list[int], Any]] = {}
    for position, tensor in enumerate(inputs):
        name, shape, data = _v2_tensor(position, tensor, spec)
        if name in tensors:
            raise InputError(f"input '{name}' is given twice")
        tensors[name] = (shape, data)
    if spec.columns:
        columns: dict[str, Any] = {}
        for name, (shape, data) in tensors.items():
            if len(shape) > 2 or (len(shape) == 2 and shape[1] != 1):
                raise InputError(
                    f"input '{name}': a column takes shape [rows] or [rows, 1], got {shape}"
                )
            columns[name] = data
        return columns_batch(spec, columns), request_id
    if len(spec.tensors) == 1:
        if len(tensors) != 1:
            raise InputError(f"the model takes one tensor, got {len(tensors)}")
        ((shape, data),) = tensors.values()
        return tensor_batch(spec, data, shape), request_id
    return Batch(rows=0, raw={name: data for name, (_, data) in tensors.items()}), request_id


def _v2_tensor(position: int, tensor: Any, spec: InputSpec) -> tuple[str, list[int], Any]:
    where = f"inputs[{position}]"
    if not isinstance(tensor, dict):
        raise InputError(f"{where} must be an object with name, shape, datatype and data")
    name, shape, datatype, data = (tensor.get(k) for k in ("name", "shape", "datatype", "data"))
    if not isinstance(name, str) or not name:
        raise InputError(f"{where}.name must be a non-empty string")
    where = f"input '{name}'"
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
        raise InputError(f"{where}: shape must be a list of non-negative integers")
    if not isinstance(datatype, str):
        raise InputError(f"{where}: datatype must be a string such as FP64")
    if isinstance(data, np.ndarray):  # decoded from binary data: already of its shape
        flat: Any = data.reshape(-1)
    elif isinstance(data, list):
        flat = _flatten(data, where)
        if len(flat) != math.prod(shape):
            raise InputError(
                f"{where}: shape {shape} needs {math.prod(shape)} values, got {len(flat)}"
            )
    else:
        raise InputError(f"{where}: data must be a list (or the tensor sent as binary data)")
    column = next((c for c in spec.columns if c.name == name), None)
    if column is not None and not _datatype_fits(datatype, column.datatype):
        raise InputError(
            f"{where}: datatype {datatype} does not fit {column.kind}; send {column.datatype}"
        )
    return name, shape, flat if spec.columns else data


def _datatype_fits(sent: str, wanted: str) -> bool:
    if wanted in _NUMERIC_DATATYPES:
        return sent in _NUMERIC_DATATYPES
    return sent == wanted


def _flatten(data: list[Any], where: str, depth: int = 0) -> list[Any]:
    if depth > 32:
        raise InputError(f"{where}: data is nested too deeply")
    if not any(isinstance(item, list) for item in data):
        return data
    flat: list[Any] = []
    for item in data:
        if isinstance(item, list):
            flat.extend(_flatten(item, where, depth + 1))
        else:
            flat.append(item)
    return flat


def selected_outputs(
    model: LoadedModel, outputs: Any, names: Sequence[str] | None
) -> list[tuple[str, np.ndarray, str]]:
    """The prediction's output tensors (name, values, datatype), those ``names`` in order.

    ``None`` (or no names) selects every output; a name the model does not produce is a 400.
    """
    columns = dict(output_columns(model.predict_fn, outputs))
    selected = []
    for name in names or tuple(columns):
        if name not in columns:
            raise InputError(
                f"output '{name[:100]}' is not produced; {model.name} returns "
                + ", ".join(f"'{n}'" for n in columns)
            )
        values = columns[name]
        selected.append((name, values, binary.datatype_of(values.dtype)))
    return selected


def v2_response(
    model: LoadedModel,
    outputs: Any,
    request_id: str | None,
    choice: OutputChoice | None = None,
) -> Encoded:
    """The inference response: one output tensor per prediction column.

    Each goes out as JSON data or, when the client asked, as raw bytes after the JSON header.
    """
    choice = choice or OutputChoice()
    tensors: list[dict[str, Any]] = []
    raw: list[bytes] = []
    for name, values, datatype in selected_outputs(model, outputs, choice.names):
        tensor: dict[str, Any] = {"name": name, "shape": list(values.shape), "datatype": datatype}
        if choice.is_binary(name):
            raw.append(binary.encode(values, datatype))
            tensor["parameters"] = {"binary_data_size": len(raw[-1])}
        elif datatype == "BYTES":
            tensor["data"] = [_text(v) for v in values.ravel()]
        else:
            tensor["data"] = values.ravel()
        tensors.append(tensor)
    response: dict[str, Any] = {
        "model_name": model.name,
        "model_version": model.version,
        "outputs": tensors,
    }
    if request_id is not None:
        response["id"] = request_id
    if not raw:
        return Encoded(dumps(response))
    body, header_length = binary.frame(response, raw)
    return Encoded(body, header_length)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return str(value)


def v2_model_metadata(model: LoadedModel, refused: tuple[str, str] | None = None) -> dict[str, Any]:
    """``GET /v2/models/{name}``: the version served, its inputs, and any refused version."""
    if model.spec.columns:
        inputs = [
            {"name": c.name, "datatype": c.datatype, "shape": [-1], "optional": not c.required}
            for c in model.spec.columns
        ]
    else:
        inputs = [
            {
                "name": t.name or "input-0",
                "datatype": binary.datatype_of(np.dtype(t.dtype)),
                "shape": list(t.shape),
            }
            for t in model.spec.tensors
        ]
    outputs = [output.metadata() for output in model.outputs] or [
        {"name": model.predict_fn, "datatype": "FP64", "shape": [-1]}  # nothing says more
    ]
    return {
        "name": model.name,
        "versions": [model.version],
        "platform": "mlflow",
        "inputs": inputs,
        "outputs": outputs,
        "parameters": {
            "run_id": model.run_id,
            "artifact_sha256": model.artifact_sha256,
            "fast_path": model.fast is not None,
            # Set when the alias points to a version that could not be served (and why).
            "refused_version": refused[0] if refused else None,
            "refused_because": refused[1] if refused else None,
        },
    }


# -- MLflow scoring format -------------------------------------------------------------


def invocations_batch(spec: InputSpec, body: bytes, content_type: str) -> Batch:
    """Validate an ``/invocations`` body (JSON or CSV) against the signature."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "text/csv":
        return _csv_batch(spec, body)
    if media not in ("application/json", ""):
        raise InputError(
            f"unsupported content type '{media}'; send application/json or text/csv", 415
        )
    data = parse_json(body)
    if not isinstance(data, dict):
        raise InputError(f"the body must be a JSON object with one of {', '.join(MLFLOW_KEYS)}")
    keys = [key for key in MLFLOW_KEYS if key in data]
    extra = sorted(set(data) - set(MLFLOW_KEYS) - {"params"})
    if extra:
        raise InputError(f"unexpected field '{extra[0]}'; use one of {', '.join(MLFLOW_KEYS)}")
    if len(keys) != 1:
        raise InputError(f"the body must hold exactly one of {', '.join(MLFLOW_KEYS)}")
    if data.get("params"):
        raise InputError("inference 'params' are not supported by this gateway; remove them")
    key = keys[0]
    value = data[key]
    if not spec.columns and not spec.tensors:
        return Batch(rows=0, raw=value)
    if key == "dataframe_split":
        _require_columns(spec, key)
        return split_batch(spec, value)
    if key == "dataframe_records":
        _require_columns(spec, key)
        return records_batch(spec, value)
    if spec.tensors:
        if isinstance(value, dict):
            if len(value) != 1:
                raise InputError(f"the model takes one tensor; '{key}' names {len(value)}")
            (value,) = value.values()
        return tensor_batch(spec, value)
    if isinstance(value, dict):
        return columns_batch(spec, value)
    if isinstance(value, list) and value and all(isinstance(row, list) for row in value):
        return split_batch(spec, {"columns": list(spec.names), "data": value})
    return records_batch(spec, value)


def _require_columns(spec: InputSpec, key: str) -> None:
    if not spec.columns:
        raise InputError(f"'{key}' is for column-based models; this model takes a tensor")


def _csv_batch(spec: InputSpec, body: bytes) -> Batch:
    import pandas as pd

    if not spec.columns:
        raise InputError("CSV input is for column-based models; send JSON 'instances'", 415)
    try:
        frame = pd.read_csv(io.BytesIO(body))
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"the CSV body cannot be read: {exc}") from None
    frame = frame.astype(object).where(frame.notna(), None)
    return columns_batch(spec, {str(c): frame[c].tolist() for c in frame.columns})


def invocations_response(outputs: Any) -> dict[str, Any]:
    """MLflow's response shape: ``{"predictions": ...}``."""
    if hasattr(outputs, "to_dict") and hasattr(outputs, "columns"):
        return {"predictions": outputs.to_dict(orient="records")}
    if hasattr(outputs, "to_numpy"):
        return {"predictions": outputs.to_numpy()}
    return {"predictions": np.asarray(outputs) if isinstance(outputs, list) else outputs}
