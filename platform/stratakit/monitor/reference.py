"""A model version's training reference, found from its lineage tags alone.

A version registered by a project carries ``strata.features`` (its input columns) and one
``strata.data.<path>`` tag per input with the md5 DVC recorded for it. Those hashes address
the data in DVC's content-addressed storage: the project's local cache when it holds them,
else the DVC remote the project's ``.dvc/config`` names (the stack's bucket). A ``.dir``
hash is a listing of files; every parquet or CSV table in it is read, and the input whose
tables hold all the model's columns is the reference. The user never names a file.
"""

from __future__ import annotations

import configparser
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from stratakit.errors import MonitoringError

if TYPE_CHECKING:
    import pyarrow as pa

_TABLES = (".parquet", ".pq", ".csv")


@dataclass(frozen=True)
class Reference:
    """The reference rows and where they came from."""

    table: pa.Table
    data_path: str
    md5: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class DvcStorage:
    """Where DVC keeps objects for a project: its local cache, then its default remote."""

    cache: Path
    remote: str | None

    @classmethod
    def of(cls, root: Path) -> DvcStorage:
        """Read ``.dvc/config`` (and ``config.local``) the way DVC layers them."""
        parser = configparser.ConfigParser(interpolation=None)
        parser.read([root / ".dvc" / "config", root / ".dvc" / "config.local"])
        cache = Path(parser.get("cache", "dir", fallback=str(root / ".dvc" / "cache")))
        name = parser.get("core", "remote", fallback="").strip().strip("'\"")
        remote = None
        for section in parser.sections():
            if section.replace("'", "").replace('"', "").split() == ["remote", name]:
                remote = parser.get(section, "url", fallback=None)
        return cls(cache if cache.is_absolute() else root / ".dvc" / cache, remote)


def _object_paths(md5: str) -> Iterator[str]:
    """Where DVC 3 (``files/md5/``) and DVC 2 (flat) keep an object, newest layout first."""
    yield f"files/md5/{md5[:2]}/{md5[2:]}"
    yield f"{md5[:2]}/{md5[2:]}"


class ObjectReader:
    """Reads DVC objects by hash from the local cache, else from an S3 or local remote."""

    def __init__(self, storage: DvcStorage, client: Any) -> None:
        self._storage = storage
        self._client = client

    def read(self, md5: str) -> bytes:
        """The object's bytes; a clear error when neither cache nor remote holds it."""
        for relative in _object_paths(md5):
            local = self._storage.cache / relative
            if local.is_file():
                return local.read_bytes()
        remote = self._storage.remote
        if remote and remote.startswith("s3://"):
            bucket, _, prefix = remote.removeprefix("s3://").partition("/")
            for relative in _object_paths(md5):
                key = str(PurePosixPath(prefix, relative)) if prefix else relative
                try:
                    body: bytes = self._client.get_object(Bucket=bucket, Key=key)["Body"].read()
                except self._client.exceptions.NoSuchKey:
                    continue
                return body
        elif remote:
            for relative in _object_paths(md5):
                path = Path(remote) / relative
                if path.is_file():
                    return path.read_bytes()
        raise MonitoringError(
            f"DVC object {md5} is in neither the local cache nor the remote {remote or '(none)'}"
            "; run `dvc push` where the model was trained."
        )


def _read_table(name: str, blob: bytes) -> pa.Table:
    if name.endswith(".csv"):
        import pyarrow.csv as pcsv

        return pcsv.read_csv(io.BytesIO(blob))
    import pyarrow.parquet as pq

    return pq.read_table(io.BytesIO(blob))


def _tables(reader: ObjectReader, path: str, md5: str) -> Iterator[tuple[str, pa.Table]]:
    if md5.endswith(".dir"):
        listing = json.loads(reader.read(md5))
        for entry in sorted(listing, key=lambda e: str(e["relpath"])):
            relpath = str(entry["relpath"])
            if relpath.endswith(_TABLES):
                yield f"{path}/{relpath}", _read_table(relpath, reader.read(str(entry["md5"])))
    elif path.endswith(_TABLES):
        yield path, _read_table(path, reader.read(md5))


def find_reference(
    data: Mapping[str, str], columns: tuple[str, ...], reader: ObjectReader
) -> Reference:
    """The first input (by path) whose tables hold every one of ``columns``."""
    import pyarrow as pa

    if not data:
        raise MonitoringError(
            "the version has no strata.data.<path> tags, so its training data is unknown; "
            "register versions with the project's lineage tags (`strata model describe`)."
        )
    seen: list[str] = []
    for path, md5 in sorted(data.items()):
        found = [
            (name, table.select(list(columns)))
            for name, table in _tables(reader, path, md5)
            if set(columns) <= set(table.column_names)
        ]
        if found:
            table = pa.concat_tables([t for _, t in found], promote_options="permissive")
            return Reference(table, path, md5, tuple(name for name, _ in found))
        seen.append(path)
    raise MonitoringError(
        f"no table in the version's training data ({', '.join(seen)}) holds all of its input "
        f"columns ({', '.join(columns)}); check the strata.features and strata.data tags."
    )
