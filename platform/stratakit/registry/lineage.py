"""Lineage tags of a registered model version: their names, their meaning, the artifact digest.

Generated projects write these tags when they register a version (their ``lineage``
module); ``strata model describe`` reads them and ``strata model verify`` re-checks them.
The digest below is the same algorithm as the template's, and a test keeps the two equal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

TAG_PREFIX = "strata."
DATA_PREFIX = f"{TAG_PREFIX}data."
#: The tag listing the ``view:feature`` references a model version was trained on.
FEATURE_REFS_TAG = f"{TAG_PREFIX}feature_refs"
#: The verdict of the last ``strata monitor drift`` of a version (``drift``, ``ok``, …); the
#: gateway exports it as a metric for alerting.
MONITOR_VERDICT_TAG = f"{TAG_PREFIX}monitor.verdict"

#: Tag (without prefix) → the question it answers. Every registered version must carry all.
REQUIRED: Mapping[str, str] = {
    "owner": "who owns it",
    "artifact_sha256": "which binary",
    "features": "which features",
    "git_commit": "which code",
    "git_dirty": "uncommitted changes at training time",
    "pipeline_run": "which pipeline run",
    "tracking_run": "which tracking run",
}


#: Written by MLflow's client beside a model it downloads through a ``models:/`` URI (the
#: URI's name and version, or nulls); not part of the stored artifact, so not digested.
DOWNLOAD_NOTE = "registered_model_meta"
#: The note as downloads of a logged model (``models:/m-…``) wrote it. Tags written by kit
#: 0.1.0 digested it with the files; :func:`digest_matches` still accepts those tags.
_LOGGED_MODEL_NOTE = b"model_name: null\nmodel_version: null\n"


def _digest(entries: list[tuple[Path, bytes]]) -> str:
    outer = hashlib.sha256()
    for relative, content in sorted(entries):
        inner = hashlib.sha256(content).hexdigest()
        outer.update(f"{relative.as_posix()}\0{inner}\n".encode())
    return outer.hexdigest()


def _artifact_files(folder: Path) -> list[tuple[Path, bytes]]:
    files = [
        (path.relative_to(folder), path.read_bytes())
        for path in folder.rglob("*")
        if path.is_file() and path.relative_to(folder).as_posix() != DOWNLOAD_NOTE
    ]
    if not files:
        raise ValueError(f"{folder} holds no files to digest")
    return files


def tree_sha256(folder: Path) -> str:
    """Digest of a model artifact folder: every file's relative path and sha256, sorted.

    Independent of timestamps, of the order the store lists files in and of how the copy
    was downloaded, so the digest of a downloaded copy equals that of what was uploaded.
    """
    return _digest(_artifact_files(folder))


def digest_matches(folder: Path, tagged: str) -> bool:
    """Whether ``folder`` is the artifact a ``strata.artifact_sha256`` tag names.

    Also true for tags written by kit 0.1.0, whose digest included the note MLflow's
    client writes beside a downloaded logged model; nothing registered then is refused.
    """
    files = _artifact_files(folder)
    legacy = [*files, (Path(DOWNLOAD_NOTE), _LOGGED_MODEL_NOTE)]
    return tagged in {_digest(files), _digest(legacy)}


def parse_refs(value: str) -> tuple[str, ...]:
    """``view:feature`` references from a comma-separated tag value (blanks dropped)."""
    return tuple(ref.strip() for ref in value.split(",") if ref.strip())


@dataclass(frozen=True)
class Lineage:
    """The lineage a version's tags claim (empty strings where a tag is missing)."""

    owner: str
    artifact_sha256: str
    features: tuple[str, ...]
    git_commit: str
    git_dirty: str
    pipeline_run: str
    tracking_run: str
    data: dict[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    feature_refs: tuple[str, ...] = ()
    """Feature-store references (``view:feature``) when training read a feature store."""

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> Lineage:
        """Read the lineage tags; absent or empty required tags are listed in ``missing``."""

        def tag(key: str) -> str:
            return tags.get(TAG_PREFIX + key, "").strip()

        missing = tuple(TAG_PREFIX + key for key in REQUIRED if not tag(key))
        data = {
            k[len(DATA_PREFIX) :]: v for k, v in sorted(tags.items()) if k.startswith(DATA_PREFIX)
        }
        if not data:
            missing += (f"{DATA_PREFIX}<path>",)
        return cls(
            owner=tag("owner"),
            artifact_sha256=tag("artifact_sha256"),
            features=tuple(f for f in tag("features").split(",") if f),
            feature_refs=parse_refs(tag("feature_refs")),
            git_commit=tag("git_commit"),
            git_dirty=tag("git_dirty"),
            pipeline_run=tag("pipeline_run"),
            tracking_run=tag("tracking_run"),
            data=data,
            missing=missing,
        )
