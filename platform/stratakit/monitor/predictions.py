"""Reading a window of the gateway's prediction log back from the bucket.

The gateway writes parquet files under ``predictions/MODEL/version=V/date=YYYY-MM-DD/``
(see :mod:`stratakit.gateway.prediction_log`); a window is either every row since a moment
(``--since``) or the newest rows (``--last``). Only the date folders the window can touch
are listed, and files are fetched in parallel.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

#: Columns the gateway adds to each logged row; everything else is an input or the prediction.
META_COLUMNS = ("request_time", "request_id", "protocol")
PREDICTION = "prediction"
PREFIX = "predictions"


@dataclass(frozen=True)
class Window:
    """Which logged rows to compare: since a moment, or the newest ``last`` rows."""

    since_seconds: float | None = None
    last: int | None = None

    def describe(self) -> str:
        """``last 24h`` or ``newest 500 rows``."""
        if self.last is not None:
            return f"newest {self.last} rows"
        seconds = self.since_seconds or 0
        for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
            if seconds >= size and seconds % size == 0:
                return f"last {int(seconds // size)}{unit}"
        return f"last {int(seconds)}s"


def version_prefix(model: str, version: str) -> str:
    """The folder of one version's logged predictions inside the bucket."""
    return f"{PREFIX}/{model}/version={version}/"


def _date_folders(client: Any, bucket: str, prefix: str) -> list[str]:
    folders: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, Delimiter="/"
    ):
        folders += [p["Prefix"] for p in page.get("CommonPrefixes", ())]
    return sorted(f for f in folders if f[len(prefix) :].startswith("date="))


def _keys(client: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", ()) if o["Key"].endswith(".parquet")]
    return sorted(keys)


def _read(client: Any, bucket: str, keys: list[str]) -> Iterator[pa.Table]:
    import pyarrow.parquet as pq

    def fetch(key: str) -> pa.Table:
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        return pq.read_table(io.BytesIO(body))

    with ThreadPoolExecutor(max_workers=8) as pool:
        yield from pool.map(fetch, keys)


def _concat(tables: list[pa.Table]) -> pa.Table | None:
    import pyarrow as pa

    if not tables:
        return None
    return pa.concat_tables(tables, promote_options="permissive")


def read_window(
    client: Any, bucket: str, model: str, version: str, window: Window, now: datetime | None = None
) -> pa.Table | None:
    """The window's rows, oldest first (``None`` when the version has logged nothing)."""
    import pyarrow.compute as pc

    prefix = version_prefix(model, version)
    folders = _date_folders(client, bucket, prefix)
    if window.last is not None:
        tables: list[pa.Table] = []
        rows = 0
        for folder in reversed(folders):
            # Files are named by the time they were written, so newest first by name.
            for table in _read(client, bucket, sorted(_keys(client, bucket, folder), reverse=True)):
                tables.append(table)
                rows += table.num_rows
            if rows >= window.last:
                break
        table = _concat(tables)
        if table is None:
            return None
        table = table.sort_by("request_time")
        return table.slice(max(table.num_rows - window.last, 0))
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=window.since_seconds or 0)
    first = f"{prefix}date={cutoff:%Y-%m-%d}/"
    keys = [key for folder in folders if folder >= first for key in _keys(client, bucket, folder)]
    table = _concat(list(_read(client, bucket, keys)))
    if table is None:
        return None
    import pyarrow as pa

    moment = pa.scalar(cutoff, type=table.schema.field("request_time").type)
    table = table.filter(pc.greater_equal(table["request_time"], moment))
    return table.sort_by("request_time")
