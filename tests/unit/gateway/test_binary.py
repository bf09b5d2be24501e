"""The binary tensor data codec: every datatype round-trips, every malformed frame is a 400.

The official client library's own encoder (tritonclient) builds the frames, so the codec
is checked against what clients really send, not against itself.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tritonclient.http import InferInput
from tritonclient.http._utils import _get_inference_request
from tritonclient.utils import serialize_byte_tensor

from stratakit.errors import InputError
from stratakit.gateway import binary, protocols

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
shapes = st.lists(st.integers(0, 4), min_size=1, max_size=3)


@st.composite
def tensors(draw: st.DrawFn, datatype: str | None = None) -> tuple[str, np.ndarray]:
    """A datatype and an array of it, of any shape (empty included), any values."""
    datatype = datatype or draw(st.sampled_from(binary.DATATYPES))
    shape = tuple(draw(shapes))
    if datatype == "BYTES":
        values = draw(st.lists(st.binary(max_size=12), min_size=math.prod(shape),
                               max_size=math.prod(shape)))  # fmt: skip
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return datatype, array.reshape(shape)
    return datatype, draw(hnp.arrays(binary.DTYPES[datatype], shape))


def client_frame(named: list[tuple[str, str, np.ndarray, bool]]) -> tuple[bytes, int | None]:
    """A request body as tritonclient frames it; each input binary or JSON as flagged."""
    inputs = []
    for name, datatype, array, as_binary in named:
        tensor = InferInput(name, list(array.shape), datatype)
        tensor.set_data_from_numpy(array, binary_data=as_binary)
        inputs.append(tensor)
    body, header_length = _get_inference_request(
        inputs=inputs, request_id="r", outputs=None, sequence_id=0, sequence_start=False,
        sequence_end=False, priority=0, timeout=None, custom_parameters=None,
    )  # fmt: skip
    return body, header_length


def decoded(body: bytes, header_length: int | None) -> dict[str, Any]:
    request = protocols.v2_request(body, None if header_length is None else str(header_length))
    return {tensor["name"]: tensor for tensor in request.body["inputs"]}


def assert_same(array: np.ndarray, got: np.ndarray) -> None:
    assert got.shape == array.shape
    if array.dtype == object:
        assert got.tolist() == array.tolist()
    else:
        assert got.dtype == array.dtype
        assert got.tobytes() == array.tobytes()  # bit for bit: NaN payloads and -0.0 too


@SETTINGS
@given(tensors())
def test_every_datatype_round_trips_bit_for_bit(tensor: tuple[str, np.ndarray]) -> None:
    datatype, array = tensor
    raw = binary.encode(array, datatype)
    if datatype == "BYTES":
        serialized = serialize_byte_tensor(array)  # the client's own encoding
        assert raw == (serialized.item() if serialized.size else b"")
    else:
        assert raw == array.astype(array.dtype.newbyteorder("<")).tobytes()
    assert_same(array, binary.decode(datatype, list(array.shape), memoryview(raw), "x"))


@SETTINGS
@given(st.lists(st.tuples(tensors(), st.booleans()), min_size=1, max_size=4))
def test_a_clients_mixed_json_and_binary_inputs_decode_to_the_same_arrays(
    drawn: list[tuple[tuple[str, np.ndarray], bool]],
) -> None:
    named = []
    for position, ((datatype, array), as_binary) in enumerate(drawn):
        # JSON carries no NaN or infinity, and BYTES as JSON must be UTF-8 text.
        if not as_binary and (datatype == "BYTES" or datatype.startswith("FP")):
            as_binary = True
        named.append((f"in{position}", datatype, array, as_binary))
    body, header_length = client_frame(named)
    found = decoded(body, header_length)
    for name, _, array, as_binary in named:
        data = found[name]["data"]
        if as_binary:
            assert_same(array, data)
        else:
            assert np.array_equal(np.asarray(data, dtype=array.dtype).reshape(array.shape), array)


def test_datatypes_map_both_ways() -> None:
    for datatype, dtype in binary.DTYPES.items():
        assert binary.datatype_of(dtype) == datatype
        assert binary.datatype_of(dtype.newbyteorder(">")) == datatype
    assert binary.datatype_of(np.dtype(object)) == "BYTES"
    assert binary.datatype_of(np.dtype("<U3")) == "BYTES"


MUTATIONS = (
    "truncate",
    "extra bytes",
    "header past the end",
    "header cut short",
    "header not JSON",
    "size off",
    "shape off",
    "length prefix overrun",
    "size not a number",
    "data and size",
)


@st.composite
def malformed(draw: st.DrawFn) -> tuple[str, bytes, str, str | None]:
    """A valid binary frame with one fault; returns the fault, body, header, tensor named."""
    mutation = draw(st.sampled_from(MUTATIONS))
    datatype, array = draw(tensors("BYTES" if mutation == "length prefix overrun" else None))
    array = array.reshape(-1)
    if array.size == 0:
        array = (
            np.array([b"abc"], dtype=object)
            if datatype == "BYTES"
            else np.ones(1, binary.DTYPES[datatype])
        )
    _, plain = draw(tensors("INT64"))
    body, length = client_frame([("plain", "INT64", plain, False), ("t", datatype, array, True)])
    assert length is not None
    header, tail = orjson.loads(body[:length]), body[length:]
    tensor = header["inputs"][1]
    k = draw(st.integers(1, 64))
    named: str | None = "input 't'"
    if mutation == "truncate":
        tail = tail[: max(len(tail) - k, 0)]
    elif mutation == "extra bytes":
        tail += bytes(k)
        named = None
    elif mutation == "size off":
        size = tensor["parameters"]["binary_data_size"]
        tensor["parameters"]["binary_data_size"] = max(size + draw(st.sampled_from((-k, k))), 0)
        if tensor["parameters"]["binary_data_size"] == size:
            tensor["parameters"]["binary_data_size"] = size + k
    elif mutation == "shape off":
        tensor["shape"] = [math.prod(tensor["shape"]) + k]
    elif mutation == "length prefix overrun":
        tail = (len(tail) + k).to_bytes(4, "little") + tail[4:]
    elif mutation == "size not a number":
        tensor["parameters"]["binary_data_size"] = draw(st.sampled_from(("8", -1, 1.5, None)))
    elif mutation == "data and size":
        tensor["data"] = [0] * array.size
    blob = orjson.dumps(header)
    header_length = str(len(blob))
    if mutation == "header past the end":
        header_length = str(len(blob) + len(tail) + k)
        named = None
    elif mutation == "header cut short":
        header_length = str(max(len(blob) - k, 0))
        named = None
    elif mutation == "header not JSON":
        blob = draw(st.binary(min_size=1, max_size=40).filter(lambda b: not _is_json(b)))
        header_length = str(len(blob))
        named = None
    return mutation, blob + tail, header_length, named


def _is_json(blob: bytes) -> bool:
    try:
        orjson.loads(blob)
    except orjson.JSONDecodeError:
        return False
    return True


@SETTINGS
@given(malformed())
def test_every_malformed_frame_is_a_400_naming_the_tensor(
    case: tuple[str, bytes, str, str | None],
) -> None:
    mutation, body, header_length, named = case
    with pytest.raises(InputError) as caught:
        protocols.v2_request(body, header_length)
    assert caught.value.status == 400, mutation
    if named is not None:
        assert named in str(caught.value), (mutation, str(caught.value))


@pytest.mark.parametrize(
    ("header_length", "needle"),
    [("abc", "must be a number"), ("²", "must be a number"), ("-1", "must be a number"),
     ("10", "body has only 4 bytes"), ("0", "empty")],
)  # fmt: skip
def test_a_bad_header_length_says_what_is_wrong(header_length: str, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        protocols.v2_request(b"{}  ", header_length)


def test_bool_bytes_other_than_0_and_1_are_refused() -> None:
    with pytest.raises(InputError, match="input 'flag': BOOL bytes must be 0 or 1"):
        binary.decode("BOOL", [2], memoryview(b"\x01\x07"), "input 'flag'")


def test_a_datatype_without_a_binary_form_is_named() -> None:
    with pytest.raises(InputError, match="input 'x': datatype 'BF16' cannot be sent"):
        binary.decode("BF16", [1], memoryview(b"\x00\x00"), "input 'x'")
