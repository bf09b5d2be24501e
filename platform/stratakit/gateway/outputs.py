"""What a model returns, as the protocol's named output tensors.

One function turns a prediction into named arrays for responses; the same function,
applied to the warm-up prediction on the input example, gives the model metadata's
outputs, so the metadata declares exactly the names, datatypes and shapes responses carry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from stratakit.gateway.binary import datatype_of
from stratakit.gateway.inputs import OIP_DATATYPE


@dataclass(frozen=True)
class OutputSpec:
    """One output tensor: ``-1`` in ``shape`` is the batch's rows (or any size)."""

    name: str
    datatype: str
    shape: tuple[int, ...]

    def metadata(self) -> dict[str, Any]:
        """The tensor metadata of ``GET /v2/models/{name}``."""
        return {"name": self.name, "datatype": self.datatype, "shape": list(self.shape)}


def output_columns(predict_fn: str, outputs: Any) -> list[tuple[str, np.ndarray]]:
    """A prediction as named arrays.

    One per DataFrame column or dict key, else one array named after the predict function
    (as MLServer names it).
    """
    if hasattr(outputs, "columns") and hasattr(outputs, "to_numpy"):  # a DataFrame
        return [(str(c), np.asarray(outputs[c].to_numpy())) for c in outputs.columns]
    if isinstance(outputs, dict):
        return [(str(k), np.asarray(v)) for k, v in outputs.items()]
    if hasattr(outputs, "to_numpy"):  # a Series
        return [(predict_fn, np.asarray(outputs.to_numpy()))]
    return [(predict_fn, np.asarray(outputs))]


def describe(predict_fn: str, outputs: Any) -> tuple[OutputSpec, ...]:
    """The output tensors of one real prediction, with its row count generalised to -1."""
    return tuple(
        OutputSpec(name, datatype_of(values.dtype), (-1, *values.shape[1:]) if values.ndim else ())
        for name, values in output_columns(predict_fn, outputs)
    )


def from_signature(schema: Any, predict_fn: str) -> tuple[OutputSpec, ...]:
    """The outputs an MLflow output ``Schema`` declares (for a model without an example)."""
    if schema is None:
        return ()
    if schema.is_tensor_spec():
        return tuple(
            OutputSpec(spec.name or predict_fn, datatype_of(np.dtype(spec.type)), tuple(spec.shape))
            for spec in schema.inputs
        )
    specs = list(schema.inputs)
    if len(specs) == 1 and not specs[0].name:
        kind = getattr(specs[0].type, "name", None) or str(specs[0].type)
        return (OutputSpec(predict_fn, OIP_DATATYPE.get(kind, "BYTES"), (-1,)),)
    return tuple(
        OutputSpec(
            spec.name or str(position),
            OIP_DATATYPE.get(getattr(spec.type, "name", None) or str(spec.type), "BYTES"),
            (-1,),
        )
        for position, spec in enumerate(specs)
    )
