"""The feature catalog: each Feast feature view, its owner, freshness and the models using it.

Feast runs in-process here, configured by the stack's contract (registry file, online
store, repository); there is no feature server to keep alive.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from stratakit.contract import exported
from stratakit.errors import InvalidInputError
from stratakit.registry.lineage import FEATURE_REFS_TAG, parse_refs


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
    contract: Mapping[str, str],
    versions: Iterable[tuple[str, str, Mapping[str, str]]],
) -> list[FeatureViewEntry]:
    """Every feature view in the contract's feature repository, with the versions using it."""
    repo = Path(contract["STRATA_FEATURE_REPO"])
    used = models_using(versions)
    with exported(dict(contract)), contextlib.redirect_stdout(io.StringIO()):
        store = open_store(repo)
        views = store.list_feature_views()
    return sorted((view_entry(v, used.get(v.name, ())) for v in views), key=lambda e: e.name)
