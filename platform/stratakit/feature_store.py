"""Feature-store glue: where a project's Feast registry and online store live, and its catalog.

The embedded stack keeps Feast's registry and its SQLite online store under
``.strata/data/feast/`` and publishes both paths in the contract; the offline store is the
parquet tables the project writes to its bucket. Feast itself runs in-process in whoever
needs it (the pipeline, the gateway, ``strata features``): there is no feature server to
keep alive, and Feast's own CLI works against the same files.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from stratakit.contract import exported
from stratakit.errors import InvalidInputError
from stratakit.project import Project

#: Where a project keeps its Feast repository unless ``[tool.strata.features] repo`` says.
DEFAULT_REPO = "feature_repo"
#: The lineage tag listing the ``view:feature`` references a model version was trained on.
FEATURE_REFS_TAG = "strata.feature_refs"


def _features_table(project: Project) -> dict[str, Any]:
    table = project.settings.get("features", {})
    if not isinstance(table, dict):
        raise InvalidInputError("pyproject.toml [tool.strata.features] must be a table.")
    unknown = sorted(set(table) - {"repo", "online_store"})
    if unknown:
        raise InvalidInputError(
            f"pyproject.toml [tool.strata.features] has unknown key '{unknown[0]}'; "
            "valid keys: repo, online_store."
        )
    return table


def feature_repo(project: Project) -> Path:
    """The project's Feast repository folder (it holds ``feature_store.yaml``)."""
    repo = _features_table(project).get("repo", DEFAULT_REPO)
    if not isinstance(repo, str) or not repo or Path(repo).is_absolute() or ".." in repo:
        raise InvalidInputError(
            f"pyproject.toml [tool.strata.features].repo = {repo!r} must be a folder inside "
            'the project, e.g. "feature_repo".'
        )
    return project.root / repo


def online_store(project: Project) -> dict[str, str]:
    """Feast's ``online_store`` block: SQLite under ``.strata/`` or the configured Redis.

    ``[tool.strata.features] online_store`` is ``"sqlite"`` (the default) or a
    ``redis://HOST:PORT[/DB]`` URL. A password never goes in ``pyproject.toml``: where Redis
    needs one, the deployment sets ``STRATA_FEAST_ONLINE_STORE`` itself.
    """
    value = _features_table(project).get("online_store", "sqlite")
    where = "pyproject.toml [tool.strata.features].online_store"
    if value == "sqlite":
        return {"type": "sqlite", "path": str(project.data_dir / "feast" / "online.db")}
    url = urlsplit(value) if isinstance(value, str) else None
    if url is None or url.scheme != "redis" or not url.hostname:
        raise InvalidInputError(
            f'{where} = {value!r} must be "sqlite" or a redis://HOST:PORT[/DB] URL.'
        )
    if url.username or url.password:
        raise InvalidInputError(
            f"{where} holds a credential; keep secrets out of git and set "
            "STRATA_FEAST_ONLINE_STORE in the deployment's environment instead."
        )
    try:
        port = url.port or 6379
    except ValueError:
        raise InvalidInputError(f"{where} = {value!r} has an invalid port.") from None
    db = url.path.strip("/")
    if db and not db.isdigit():
        raise InvalidInputError(f"{where} = {value!r}: the database must be a number.")
    connection = f"{url.hostname}:{port}" + (f",db={db}" if db else "")
    return {"type": "redis", "connection_string": connection}


def feature_store_contract(project: Project) -> dict[str, str]:
    """The contract's feature-store variables: Feast's registry, online store and repo.

    ``STRATA_FEAST_ONLINE_STORE`` is Feast's ``online_store`` block as JSON (which is also
    YAML), so ``feature_store.yaml`` takes it whole with ``${STRATA_FEAST_ONLINE_STORE}``
    and the same file serves SQLite locally and Redis in production.
    """
    return {
        "STRATA_FEAST_REGISTRY": str(project.data_dir / "feast" / "registry.db"),
        "STRATA_FEAST_ONLINE_STORE": json.dumps(online_store(project)),
        "STRATA_FEATURE_REPO": str(feature_repo(project)),
    }


def parse_refs(value: str) -> tuple[str, ...]:
    """``view:feature`` references from a comma-separated tag value (blanks dropped)."""
    return tuple(ref.strip() for ref in value.split(",") if ref.strip())


@dataclass(frozen=True)
class FeatureViewEntry:
    """One feature view as the catalog shows it."""

    name: str
    description: str
    owner: str
    entities: tuple[str, ...]
    join_keys: tuple[str, ...]
    features: tuple[tuple[str, str], ...]
    """``(name, type)`` of each feature, in the view's order."""
    source: str
    ttl_seconds: float
    tags: Mapping[str, str]
    last_materialized: datetime | None
    used_by: tuple[str, ...] = field(default=())
    """``model/version`` of every registered version trained on one of its features."""

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready mapping (times as ISO 8601)."""
        return {
            "name": self.name,
            "description": self.description,
            "owner": self.owner,
            "entities": list(self.entities),
            "join_keys": list(self.join_keys),
            "features": [{"name": n, "type": t} for n, t in self.features],
            "source": self.source,
            "ttl_seconds": self.ttl_seconds,
            "tags": dict(self.tags),
            "last_materialized": self.last_materialized.isoformat()
            if self.last_materialized
            else None,
            "used_by": list(self.used_by),
        }


def open_store(repo: Path) -> Any:
    """A Feast ``FeatureStore`` on ``repo``, or an error that says how to create one."""
    if not (repo / "feature_store.yaml").is_file():
        raise InvalidInputError(
            f"{repo} has no feature_store.yaml; create the project with `strata new` (it "
            "includes a feature repository) or set [tool.strata.features].repo."
        )
    from feast import FeatureStore

    return FeatureStore(repo_path=str(repo))


def models_using(
    versions: Iterable[tuple[str, str, Mapping[str, str]]],
) -> dict[str, list[str]]:
    """Feature view name → ``model/version`` entries whose feature refs name that view."""
    used: dict[str, list[str]] = {}
    for name, version, tags in versions:
        views = {ref.split(":", 1)[0] for ref in parse_refs(tags.get(FEATURE_REFS_TAG, ""))}
        for view in sorted(views):
            used.setdefault(view, []).append(f"{name}/{version}")
    return used


def view_entry(view: Any, used_by: Sequence[str] = ()) -> FeatureViewEntry:
    """The catalog entry of a Feast ``FeatureView``."""
    ttl = view.ttl if isinstance(view.ttl, timedelta) else timedelta(0)
    source = getattr(view.batch_source, "path", None) or getattr(view.batch_source, "name", "")
    return FeatureViewEntry(
        name=view.name,
        description=view.description or "",
        owner=view.owner or "",
        entities=tuple(view.entities),
        join_keys=tuple(column.name for column in view.entity_columns),
        features=tuple((f.name, str(f.dtype)) for f in view.features),
        source=str(source),
        ttl_seconds=ttl.total_seconds(),
        tags=dict(view.tags),
        last_materialized=view.most_recent_end_time,
        used_by=tuple(used_by),
    )


def catalog(
    project: Project,
    contract: Mapping[str, str],
    versions: Iterable[tuple[str, str, Mapping[str, str]]],
) -> list[FeatureViewEntry]:
    """Every feature view in the project's registry, with the model versions that use it."""
    repo = Path(contract.get("STRATA_FEATURE_REPO") or feature_repo(project))
    used = models_using(versions)
    with exported(dict(contract)), contextlib.redirect_stdout(io.StringIO()):
        store = open_store(repo)
        views = store.list_feature_views()
    return sorted((view_entry(v, used.get(v.name, ())) for v in views), key=lambda e: e.name)
