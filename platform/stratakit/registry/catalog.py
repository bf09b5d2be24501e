"""What the registry holds: every model with its latest version, and one version described.

Every function takes an ``MlflowClient`` (the stack's, configured from the contract) so it
works the same against the embedded stack and a production tracking server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stratakit.registry.lineage import TAG_PREFIX, Lineage
from stratakit.registry.refs import ModelRef, resolve


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


def list_models(client: Any) -> list[ModelSummary]:
    """Every registered model with its latest version, aliases and owner."""
    rows = []
    for model in client.search_registered_models(max_results=1000):
        versions = client.search_model_versions(f"name = '{model.name}'")
        latest = max(versions, key=lambda v: int(v.version)) if versions else None
        owner = (latest.tags or {}).get(TAG_PREFIX + "owner", "") if latest else ""
        rows.append(
            ModelSummary(
                name=model.name,
                latest_version=latest.version if latest else "-",
                versions=len(versions),
                aliases=dict(sorted((model.aliases or {}).items())),
                owner=owner,
            )
        )
    return sorted(rows, key=lambda row: row.name)


def describe(client: Any, ref: ModelRef) -> VersionInfo:
    """A version, its aliases, its run's metrics and its lineage."""
    version = resolve(client, ref)
    tags = dict(version.tags or {})
    metrics: dict[str, float] = {}
    if version.run_id:
        metrics = dict(client.get_run(version.run_id).data.metrics)
    return VersionInfo(
        name=version.name,
        version=str(version.version),
        aliases=tuple(sorted(version.aliases or ())),
        source=str(version.source),
        run_id=str(version.run_id or ""),
        created=datetime.fromtimestamp(version.creation_timestamp / 1000, tz=UTC),
        tags=tags,
        metrics=metrics,
        lineage=Lineage.from_tags(tags),
    )
