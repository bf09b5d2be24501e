"""Reading a Feast file registry (``registry.db``) without importing Feast.

``import feast`` takes 4-7 s (it loads pandas, pyarrow, every store's plugin); the catalog
needs only the registry's protobuf messages, which take 40 ms. They live inside the
``feast`` package, whose ``__init__`` is that expensive import, so the messages are loaded
with a stand-in package object for the one import and the stand-in is removed right after:
a later ``import feast`` in the same process gets the real package.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stratakit.errors import InvalidInputError

#: Feast's value types (its ``ValueType`` enum names) → the type names Feast prints.
_TYPE_NAMES = {
    "BYTES": "Bytes",
    "STRING": "String",
    "INT32": "Int32",
    "INT64": "Int64",
    "DOUBLE": "Float64",
    "FLOAT": "Float32",
    "BOOL": "Bool",
    "UNIX_TIMESTAMP": "UnixTimestamp",
}


def _registry_module() -> Any:
    name = "feast.protos.feast.core.Registry_pb2"
    if "feast" in sys.modules or name in sys.modules:
        return importlib.import_module(name)
    spec = importlib.util.find_spec("feast")
    if spec is None or not spec.submodule_search_locations:
        raise InvalidInputError("Feast is not installed here; install the kit with `uv sync`.")
    stand_in = types.ModuleType("feast")
    stand_in.__path__ = list(spec.submodule_search_locations)
    sys.modules["feast"] = stand_in
    try:
        return importlib.import_module(name)
    finally:
        del sys.modules["feast"]


def read_registry(path: Path) -> Any:
    """The registry's ``Registry`` message; a clear error when there is none yet."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInputError(
            f"No feature registry at {path} yet: run the pipeline (`uv run nox -s pipeline`), "
            "whose featurize stage registers the feature views."
        ) from None
    registry = _registry_module().Registry()
    registry.ParseFromString(data)
    return registry


def type_name(feature: Any) -> str:
    """Feast's name of a ``FeatureSpecV2`` message's type (``Float64``, ``Array(String)``…)."""
    enum = feature.DESCRIPTOR.fields_by_name["value_type"].enum_type
    raw = str(enum.values_by_number[feature.value_type].name)
    if raw.endswith("_LIST"):
        base = raw.removesuffix("_LIST")
        return f"Array({_TYPE_NAMES.get(base, base.title())})"
    return _TYPE_NAMES.get(raw, raw.title())


def most_recent_end(view: Any) -> datetime | None:
    """The end of the latest materialization of a ``FeatureView`` message (UTC)."""
    ends = [interval.end_time.ToDatetime(UTC) for interval in view.meta.materialization_intervals]
    return max(ends) if ends else None
