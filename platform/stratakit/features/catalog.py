"""The feature catalog: each Feast feature view, its owner, freshness and the models using it.

The stack's file registry is read directly (its protobuf messages, in milliseconds);
other registries through Feast itself, configured by the stack's contract.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from stratakit.contract import exported
from stratakit.errors import InvalidInputError
from stratakit.features.registry_file import most_recent_end, read_registry, type_name
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


def proto_entry(view: Any, used_by: Sequence[str] = ()) -> FeatureViewEntry:
    """The catalog entry of a ``FeatureView`` message read from a registry file."""
    spec = view.spec
    source = spec.batch_source.file_options.uri or spec.batch_source.name
    return FeatureViewEntry(
        name=spec.name,
        description=spec.description,
        owner=spec.owner,
        entities=tuple(spec.entities),
        join_keys=tuple(column.name for column in spec.entity_columns),
        features=tuple((f.name, type_name(f)) for f in spec.features),
        source=source,
        ttl_seconds=spec.ttl.ToTimedelta().total_seconds(),
        tags=dict(spec.tags),
        last_materialized=most_recent_end(view),
        used_by=tuple(used_by),
    )


def _feast_project(repo: Path) -> str:
    """The ``project`` of the repository's ``feature_store.yaml``."""
    config = repo / "feature_store.yaml"
    if not config.is_file():
        raise InvalidInputError(
            f"{repo} has no feature_store.yaml; create the project with `strata new` (it "
            "includes a feature repository) or set [tool.strata.features].repo."
        )
    project = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("project")
    if not isinstance(project, str) or not project:
        raise InvalidInputError(f"{config} names no project; add `project: NAME` to it.")
    return project


def catalog(
    contract: Mapping[str, str],
    versions: Iterable[tuple[str, str, Mapping[str, str]]],
) -> list[FeatureViewEntry]:
    """Every feature view in the contract's feature repository, with the versions using it.

    A file registry (the stack's) is read directly; any other (S3, SQL) through Feast.
    """
    repo = Path(contract["STRATA_FEATURE_REPO"])
    project = _feast_project(repo)
    used = models_using(versions)
    registry = contract.get("STRATA_FEAST_REGISTRY", "")
    if registry and "://" not in registry:
        path = Path(registry)
        messages = read_registry(path).feature_views if path.is_file() else []
        entries = [
            proto_entry(v, used.get(v.spec.name, ())) for v in messages if v.spec.project == project
        ]
    else:
        with exported(dict(contract)), contextlib.redirect_stdout(io.StringIO()):
            views = open_store(repo).list_feature_views()
        entries = [view_entry(v, used.get(v.name, ())) for v in views]
    return sorted(entries, key=lambda e: e.name)
