"""``[tool.strata.features]``: where the Feast repository is and which online store to use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from stratakit.errors import SettingsError
from stratakit.settings import _validate

#: Where a project keeps its Feast repository unless ``[tool.strata.features] repo`` says.
DEFAULT_REPO = "feature_repo"
_LOCATION = _validate.where("features")


@dataclass(frozen=True)
class RedisStore:
    """A Redis online store without credentials (those come from the deployment)."""

    host: str
    port: int = 6379
    db: str = ""


@dataclass(frozen=True)
class FeaturesSettings:
    """The feature repository (relative to the project root) and the online store.

    ``online_store`` is ``None`` for the default: SQLite in the stack's state folder.
    """

    repo: str = DEFAULT_REPO
    online_store: RedisStore | None = None

    def online_store_block(self, sqlite_path: str) -> dict[str, str]:
        """Feast's ``online_store`` block: SQLite at ``sqlite_path``, or the Redis."""
        store = self.online_store
        if store is None:
            return {"type": "sqlite", "path": sqlite_path}
        connection = f"{store.host}:{store.port}" + (f",db={store.db}" if store.db else "")
        return {"type": "redis", "connection_string": connection}


def _repo(value: object) -> str:
    if (
        not isinstance(value, str)
        or not value
        or PurePosixPath(value).is_absolute()
        or ".." in value
    ):
        raise SettingsError(
            f"pyproject.toml {_LOCATION}.repo = {value!r} must be a folder inside "
            'the project, e.g. "feature_repo".'
        )
    return value


def _online_store(value: object) -> RedisStore | None:
    """``"sqlite"`` (the default) or a ``redis://HOST:PORT[/DB]`` URL without a password.

    A password never goes in ``pyproject.toml``, which is committed: where Redis needs one,
    the deployment sets ``STRATA_FEAST_ONLINE_STORE`` itself.
    """
    key = f"pyproject.toml {_LOCATION}.online_store"
    if value == "sqlite":
        return None
    url = urlsplit(value) if isinstance(value, str) else None
    if url is None or url.scheme != "redis" or not url.hostname:
        raise SettingsError(f'{key} = {value!r} must be "sqlite" or a redis://HOST:PORT[/DB] URL.')
    if url.username or url.password:
        raise SettingsError(
            f"{key} holds a credential; keep secrets out of git and set "
            "STRATA_FEAST_ONLINE_STORE in the deployment's environment instead."
        )
    try:
        port = url.port or 6379
    except ValueError:
        raise SettingsError(f"{key} = {value!r} has an invalid port.") from None
    db = url.path.strip("/")
    if db and not db.isdigit():
        raise SettingsError(f"{key} = {value!r}: the database must be a number.")
    return RedisStore(host=url.hostname, port=port, db=db)


def parse_features(raw: object) -> FeaturesSettings:
    """Validate ``[tool.strata.features]``."""
    entries: Mapping[str, Any] = _validate.table(raw, _LOCATION)
    _validate.known_keys(entries, ("repo", "online_store"), _LOCATION)
    return FeaturesSettings(
        repo=_repo(entries.get("repo", DEFAULT_REPO)),
        online_store=_online_store(entries.get("online_store", "sqlite")),
    )
