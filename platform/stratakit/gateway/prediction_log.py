"""The prediction log: requests and predictions, batched into parquet files in the bucket.

Recording is an append to an in-memory queue, so a request never waits for storage. A
background thread writes one parquet file per model version every few seconds (or sooner
when the batch is full) under ``s3://BUCKET/predictions/MODEL/version=V/date=YYYY-MM-DD/``.
When storage is slower than traffic the queue is bounded: new rows are dropped and counted,
never the server's memory.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson

from stratakit.gateway.inputs import Batch

log = logging.getLogger("stratakit.gateway")

Sink = Callable[[str, bytes], None]
"""Stores one file: (key inside the bucket, parquet bytes)."""


@dataclass(frozen=True)
class Entry:
    """One answered request."""

    at: float
    model: str
    version: str
    request_id: str
    protocol: str
    batch: Batch
    outputs: Any


class PredictionLog:
    """Bounded queue + flusher thread; ``record`` is safe from the event loop."""

    def __init__(
        self,
        sink: Sink | None,
        prefix: str = "predictions",
        flush_seconds: float = 10.0,
        batch_rows: int = 50_000,
        max_pending: int = 200_000,
        count: Callable[[str, int], None] = lambda outcome, rows: None,
    ) -> None:
        self._sink = sink
        self._prefix = prefix
        self._flush_seconds = flush_seconds
        self._batch_rows = batch_rows
        self._max_pending = max_pending
        self._count = count
        self._queue: deque[Entry] = deque()
        self._pending = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)

    @property
    def enabled(self) -> bool:
        """Whether predictions are stored (a bucket is configured)."""
        return self._sink is not None

    def record(self, entry: Entry) -> None:
        """Queue one request's rows; drops (and counts) them when the queue is full."""
        if self._sink is None:
            return
        rows = max(entry.batch.rows, 1)
        with self._lock:
            if self._pending + rows > self._max_pending:
                full = True
            else:
                full = False
                self._pending += rows
                self._queue.append(entry)
            due = self._pending >= self._batch_rows
        if full:
            self._count("dropped", rows)
        elif due:
            self._wake.set()

    def start(self) -> None:
        """Start the flusher thread."""
        if self._sink is not None:
            self._thread.start()

    def stop(self) -> None:
        """Stop the flusher after writing what is queued."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        else:
            self.flush()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._flush_seconds)
            self._wake.clear()
            self.flush()
        self.flush()

    def flush(self) -> int:
        """Write every queued entry; returns the rows written."""
        if self._sink is None:
            return 0
        entries: list[Entry] = []
        with self._lock:
            while self._queue:
                entries.append(self._queue.popleft())
            self._pending = 0
        groups: dict[tuple[str, str], list[Entry]] = {}
        for entry in entries:
            groups.setdefault((entry.model, entry.version), []).append(entry)
        written = 0
        for (model, version), group in groups.items():
            rows = sum(max(e.batch.rows, 1) for e in group)
            try:
                blob = to_parquet(group)
                self._sink(self._key(model, version), blob)
            except Exception as exc:  # storage trouble must not kill the flusher
                log.error("prediction log: %d rows of %s/%s lost: %s", rows, model, version, exc)
                self._count("failed", rows)
                continue
            written += rows
            self._count("written", rows)
        return written

    def _key(self, model: str, version: str) -> str:
        now = datetime.now(UTC)
        name = f"{now:%H%M%S}-{uuid.uuid4().hex[:12]}.parquet"
        return f"{self._prefix}/{model}/version={version}/date={now:%Y-%m-%d}/{name}"


def to_parquet(entries: list[Entry]) -> bytes:
    """One table, one row per predicted row: request fields, inputs, then the prediction.

    Built with whole-array operations where the requests allow it (named columns, numeric
    predictions of one shape), so writing the log costs the server little CPU; anything
    else (tensors, nested outputs) is kept as JSON text per row.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = np.fromiter((max(e.batch.rows, 1) for e in entries), dtype=np.int64, count=len(entries))
    index = np.repeat(np.arange(len(entries)), rows)
    stamps = np.fromiter((e.at for e in entries), dtype=np.float64, count=len(entries))
    table: dict[str, Any] = {
        "request_time": pa.array((stamps * 1e6).astype("int64")[index], pa.int64()).cast(
            pa.timestamp("us", tz="UTC")
        ),
        "request_id": pa.array([e.request_id for e in entries], pa.string()).take(index),
        "protocol": pa.array([e.protocol for e in entries], pa.string()).take(index),
    }
    table.update(_input_columns(entries, rows))
    table["prediction"] = _predictions(entries, rows)
    buffer = io.BytesIO()
    # Dictionary encoding only where values repeat (a request's id, the protocol): on
    # measured numbers it costs most of the write and saves nothing; LZ4 is the cheapest
    # codec to write, and readers decode it everywhere.
    pq.write_table(
        pa.table(table), buffer, compression="lz4", use_dictionary=["request_id", "protocol"]
    )
    return buffer.getvalue()


def _input_columns(entries: list[Entry], rows: np.ndarray) -> dict[str, Any]:
    import pyarrow as pa

    names = [tuple(e.batch.columns) if e.batch.columns is not None else None for e in entries]
    if names[0] is not None and all(n == names[0] for n in names):
        return {
            name: pa.array(np.concatenate([e.batch.columns[name] for e in entries]))  # type: ignore[index]
            for name in names[0]
        }
    raw: list[str] = []
    for entry, count in zip(entries, rows.tolist(), strict=True):
        if entry.batch.columns is not None:
            frame = [dict(zip(entry.batch.columns, values, strict=True))
                     for values in zip(*entry.batch.columns.values(), strict=True)]  # fmt: skip
            raw += [orjson.dumps(r, option=orjson.OPT_SERIALIZE_NUMPY).decode() for r in frame]
        else:
            source = entry.batch.tensor if entry.batch.tensor is not None else entry.batch.raw
            raw += [
                v
                if isinstance(v, str)
                else orjson.dumps(v, option=orjson.OPT_SERIALIZE_NUMPY).decode()
                for v in _json_rows(source, count)
            ]
    return {"inputs": pa.array(raw, pa.string())}


def _predictions(entries: list[Entry], rows: np.ndarray) -> Any:
    """Numbers as one float64 (or bool) column, equal-width rows as lists, else JSON text."""
    import pyarrow as pa

    arrays = [e.outputs for e in entries]
    if all(
        isinstance(a, np.ndarray) and a.dtype.kind in "biuf" and len(a) == n and a.ndim in (1, 2)
        for a, n in zip(arrays, rows.tolist(), strict=True)
    ):
        shapes = {a.shape[1:] for a in arrays}
        kinds = {a.dtype.kind == "b" for a in arrays}
        if len(shapes) == 1 and len(kinds) == 1:
            values = np.concatenate(arrays)
            if values.ndim == 1:
                return pa.array(values if values.dtype.kind == "b" else values.astype("float64"))
            width = values.shape[1]
            flat = pa.array(values.astype("float64").ravel())
            offsets = pa.array(np.arange(0, len(values) * width + 1, width, dtype=np.int32))
            return pa.ListArray.from_arrays(offsets, flat)
    predictions: list[Any] = []
    for entry, count in zip(entries, rows.tolist(), strict=True):
        predictions += _json_rows(entry.outputs, count)
    return _prediction_column(predictions)


def _json_rows(values: Any, rows: int) -> list[Any]:
    """Split a prediction or input into one value per row (JSON text for anything nested)."""
    if hasattr(values, "to_dict") and hasattr(values, "columns"):
        return [orjson.dumps(r).decode() for r in values.to_dict(orient="records")]
    array = np.asarray(values) if not isinstance(values, np.ndarray) else values
    if array.dtype != object and array.ndim >= 1 and len(array) == rows:
        return list(array.tolist())
    return [orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY, default=str).decode()] * rows


def _prediction_column(values: list[Any]) -> Any:
    import pyarrow as pa

    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return pa.array(values, pa.float64())
    try:
        return pa.array(values)  # numbers per row become list<double>
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([v if isinstance(v, str) else orjson.dumps(v).decode() for v in values])


def s3_sink(bucket: str) -> Sink:
    """Write files to ``bucket`` with a boto3 client configured by the contract."""
    import boto3

    client = boto3.client("s3")

    def put(key: str, blob: bytes) -> None:
        client.put_object(Bucket=bucket, Key=key, Body=blob)

    return put


def now() -> float:
    """The timestamp recorded with a request."""
    return time.time()
