"""What the registry holds: every model with its latest version, and one version described.

Every function takes a :class:`~stratakit.registry.tracking_api.TrackingAPI` (the stack's,
configured from the contract), so it works the same against the embedded stack and a
production tracking server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from stratakit.registry.lineage import TAG_PREFIX, Lineage
from stratakit.registry.refs import ModelRef, resolve
from stratakit.registry.tracking_api import ModelVersion, TrackingAPI


@dataclass(frozen=True)
class ModelSummary:
    """One row of ``strata model list``."""

    name: str
    latest_version: str
    versions: int
    aliases: dict[str, str]
    owner: str


@dataclass(frozen=True)
class VersionInfo:
    """A registered version with what its tags and its run say about it."""

    name: str
    version: str
    aliases: tuple[str, ...]
    source: str
    run_id: str
    created: datetime
    tags: dict[str, str]
    metrics: dict[str, float]
    lineage: Lineage


def list_models(api: TrackingAPI) -> list[ModelSummary]:
    """Every registered model with its latest version, aliases and owner."""
    by_model: dict[str, list[ModelVersion]] = {}
    for version in api.versions():
        by_model.setdefault(version.name, []).append(version)
    rows = []
    for model in api.registered_models():
        versions = by_model.get(model.name, [])
        latest = max(versions, key=lambda v: int(v.version)) if versions else None
        rows.append(
            ModelSummary(
                name=model.name,
                latest_version=latest.version if latest else "-",
                versions=len(versions),
                aliases=dict(sorted(model.aliases.items())),
                owner=latest.tags.get(TAG_PREFIX + "owner", "") if latest else "",
            )
        )
    return sorted(rows, key=lambda row: row.name)


def describe(api: TrackingAPI, ref: ModelRef) -> VersionInfo:
    """A version, its aliases, its run's metrics and its lineage."""
    version = resolve(api, ref)
    return VersionInfo(
        name=version.name,
        version=version.version,
        aliases=version.aliases,
        source=version.source,
        run_id=version.run_id,
        created=datetime.fromtimestamp(version.created_ms / 1000, tz=UTC),
        tags=dict(version.tags),
        metrics=api.run_metrics(version.run_id) if version.run_id else {},
        lineage=Lineage.from_tags(version.tags),
    )
