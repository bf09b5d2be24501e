"""The Open Inference Protocol's binary tensor data extension, as a pure numpy codec.

A request or response is a JSON header, then raw little-endian tensor bytes, one tensor
after the other; ``Inference-Header-Content-Length`` says where the header ends. A tensor
sent this way carries ``parameters.binary_data_size`` instead of ``data``. ``BYTES``
elements are each a 4-byte little-endian length and then that many bytes.

Decoding never copies numeric data: each array is a read-only view on the request body.
Every framing fault is an :class:`InputError` (a 400) that names the tensor.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson

from stratakit.errors import InputError
from stratakit.gateway.inputs import parse_json

#: The HTTP header that marks a binary body, lower-case as Starlette reports headers.
HEADER = "inference-header-content-length"

#: Open Inference Protocol datatype → the little-endian numpy dtype of its raw bytes.
DTYPES: dict[str, np.dtype[Any]] = {
    name: np.dtype(code)
    for name, code in (
        ("BOOL", "|b1"),
        ("UINT8", "|u1"),
        ("UINT16", "<u2"),
        ("UINT32", "<u4"),
        ("UINT64", "<u8"),
        ("INT8", "|i1"),
        ("INT16", "<i2"),
        ("INT32", "<i4"),
        ("INT64", "<i8"),
        ("FP16", "<f2"),
        ("FP32", "<f4"),
        ("FP64", "<f8"),
    )
}
DATATYPES = (*DTYPES, "BYTES")
_BY_KIND = {(dtype.kind, dtype.itemsize): name for name, dtype in DTYPES.items()}
_PREFIX = struct.Struct("<I")


def datatype_of(dtype: np.dtype[Any]) -> str:
    """The protocol's datatype for a numpy dtype; anything not numeric or boolean is BYTES."""
    return _BY_KIND.get((dtype.kind, dtype.itemsize), "FP64" if dtype.kind == "f" else "BYTES")


def split(body: bytes, header_length: str | None) -> tuple[Any, memoryview]:
    """The parsed JSON header and the tensor bytes after it.

    Without ``header_length`` the whole body is the header (a plain JSON request).
    """
    if header_length is None:
        return parse_json(body), memoryview(b"")
    text = header_length.strip()
    if not (text.isascii() and text.isdigit()):
        raise InputError(f"Inference-Header-Content-Length must be a number of bytes, got {text!r}")
    length = int(text)
    if length > len(body):
        raise InputError(
            f"Inference-Header-Content-Length is {length} but the body has only {len(body)} bytes"
        )
    return parse_json(body[:length]), memoryview(body)[length:]


def attach_inputs(request: Any, tail: memoryview) -> None:
    """Replace each binary input's ``binary_data_size`` by its decoded array, as ``data``.

    Tensors take the bytes after the header in the order the inputs are listed; every byte
    must belong to exactly one input. A request that is not an object is left for the
    protocol's own validation to reject.
    """
    inputs = request.get("inputs") if isinstance(request, dict) else None
    offset = 0
    for position, tensor in enumerate(inputs if isinstance(inputs, list) else ()):
        parameters = tensor.get("parameters") if isinstance(tensor, dict) else None
        if not isinstance(parameters, dict) or "binary_data_size" not in parameters:
            continue
        where = _where(tensor, position)
        size = parameters["binary_data_size"]
        if type(size) is not int or size < 0:
            raise InputError(f"{where}: binary_data_size must be a non-negative integer")
        if "data" in tensor:
            raise InputError(f"{where}: has both 'data' and binary_data_size; send one")
        if offset + size > len(tail):
            raise InputError(
                f"{where}: binary_data_size {size} runs past the end of the body "
                f"({len(tail) - offset} bytes of tensor data left)"
            )
        shape = _shape(tensor.get("shape"), where)
        tensor["data"] = decode(tensor.get("datatype"), shape, tail[offset : offset + size], where)
        offset += size
    if offset != len(tail):
        raise InputError(
            f"{len(tail) - offset} bytes after the JSON header belong to no input; each binary "
            "input must give its parameters.binary_data_size"
        )


def decode(
    datatype: Any,
    shape: Sequence[int],
    raw: memoryview,
    where: str,
    size_named: str = "binary_data_size is",
) -> np.ndarray:
    """One tensor's bytes as an array of ``shape`` (object array of ``bytes`` for BYTES).

    ``size_named`` introduces the byte count in messages, in the client's wire format's words.
    """
    count = math.prod(shape)
    if datatype == "BYTES":
        return _reshape(decode_bytes(raw, count, where, size_named), shape, where)
    dtype = DTYPES.get(datatype) if isinstance(datatype, str) else None
    if dtype is None:
        raise InputError(
            f"{where}: datatype {str(datatype)[:20]!r} cannot be sent as binary data; "
            f"use one of {', '.join(DATATYPES)}"
        )
    if len(raw) != count * dtype.itemsize:
        raise InputError(
            f"{where}: shape {list(shape)} of {datatype} needs {count * dtype.itemsize} bytes, "
            f"{size_named} {len(raw)}"
        )
    array = _reshape(np.frombuffer(raw, dtype=dtype), shape, where)
    if dtype.kind == "b" and array.size and array.view(np.uint8).max() > 1:
        raise InputError(f"{where}: BOOL bytes must be 0 or 1")
    return array


def decode_bytes(
    raw: memoryview, count: int, where: str, size_named: str = "binary_data_size is"
) -> np.ndarray:
    """``count`` length-prefixed elements filling ``raw`` exactly, as ``bytes`` objects."""
    if count > len(raw) // _PREFIX.size:
        raise InputError(
            f"{where}: {count} BYTES elements need at least {count * _PREFIX.size} bytes of "
            f"length prefixes, {size_named} {len(raw)}"
        )
    values = np.empty(count, dtype=object)
    offset = 0
    for index in range(count):
        if offset + _PREFIX.size > len(raw):
            raise InputError(f"{where}: element {index}'s length prefix runs past the tensor")
        (length,) = _PREFIX.unpack_from(raw, offset)
        offset += _PREFIX.size
        if offset + length > len(raw):
            raise InputError(
                f"{where}: element {index} declares {length} bytes, only {len(raw) - offset} "
                "are left in the tensor"
            )
        values[index] = bytes(raw[offset : offset + length])
        offset += length
    if offset != len(raw):
        raise InputError(
            f"{where}: {len(raw) - offset} bytes are left after its {count} BYTES elements"
        )
    return values


def encode(values: np.ndarray, datatype: str) -> bytes:
    """An array's raw bytes in row-major order as ``datatype`` (length-prefixed for BYTES)."""
    if datatype == "BYTES":
        return encode_bytes(values)
    return np.ascontiguousarray(values, dtype=DTYPES[datatype]).tobytes()


def encode_bytes(values: np.ndarray) -> bytes:
    """Each element as a 4-byte little-endian length and its bytes (``str`` as UTF-8)."""
    parts: list[bytes] = []
    for value in values.ravel():
        if isinstance(value, str):
            blob = value.encode()
        elif isinstance(value, bytes):
            blob = value
        else:
            blob = str(value).encode()
        parts += (_PREFIX.pack(len(blob)), blob)
    return b"".join(parts)


def frame(header: dict[str, Any], tensors: Sequence[bytes]) -> tuple[bytes, int]:
    """The body of a binary message, and its header's length for the HTTP header."""
    text = orjson.dumps(header, option=orjson.OPT_SERIALIZE_NUMPY)
    return b"".join((text, *tensors)), len(text)


def _reshape(array: np.ndarray, shape: Sequence[int], where: str) -> np.ndarray:
    try:
        return array.reshape(shape)
    except ValueError as exc:  # a zero-size shape with a dimension numpy cannot hold
        raise InputError(f"{where}: shape {list(shape)[:8]} cannot be used: {exc}") from None


def _where(tensor: dict[str, Any], position: int) -> str:
    name = tensor.get("name")
    return f"input '{name[:100]}'" if isinstance(name, str) and name else f"inputs[{position}]"


def _shape(shape: Any, where: str) -> list[int]:
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
        raise InputError(f"{where}: shape must be a list of non-negative integers")
    return shape
