"""The model registry behind ``strata model``: find, describe, verify, promote and roll back.

Every function takes an ``MlflowClient`` (the stack's, configured from the contract) so it
works the same against the embedded stack and a production tracking server.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from stratakit.errors import InvalidInputError, StrataError
from stratakit.lineage import TAG_PREFIX, Lineage, tree_sha256
from stratakit.quality_gate import SETTING, GateResult, Threshold, judge

_REF = re.compile(r"^(?P<name>[A-Za-z0-9][\w.\-]*)(?:@(?P<alias>[\w\-]+)|/(?P<version>\d+))?$")
HISTORY_TAG = TAG_PREFIX + "alias_history."

Level = Literal["ok", "warn", "fail"]


class ModelNotFoundError(StrataError):
    """The named model, version or alias does not exist in the registry."""


class QualityGateError(StrataError):
    """A version failed the project's quality gate; nothing was changed."""


@dataclass(frozen=True)
class ModelRef:
    """``NAME`` (latest version), ``NAME@ALIAS`` or ``NAME/VERSION``."""

    name: str
    alias: str | None = None
    version: str | None = None

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        """Parse a reference; the error shows the three accepted forms."""
        match = _REF.match(text.strip())
        if not match:
            raise InvalidInputError(
                f"'{text}' is not a model reference; use NAME, NAME@ALIAS or NAME/VERSION."
            )
        return cls(match["name"], match["alias"], match["version"])

    def __str__(self) -> str:
        if self.alias:
            return f"{self.name}@{self.alias}"
        return f"{self.name}/{self.version}" if self.version else self.name


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


@dataclass(frozen=True)
class Finding:
    """One check of ``strata model verify``."""

    check: str
    level: Level
    detail: str


@dataclass(frozen=True)
class AliasMove:
    """What ``promote`` or ``rollback`` did."""

    name: str
    alias: str
    version: str
    previous: str | None
    gate: list[GateResult] = field(default_factory=list)


def _not_found(exc: Exception) -> bool:
    return "RESOURCE_DOES_NOT_EXIST" in str(getattr(exc, "error_code", "")) or (
        "not found" in str(exc).lower()
    )


def resolve(client: Any, ref: ModelRef) -> Any:
    """The ``ModelVersion`` a reference points at; a clear error when there is none."""
    from mlflow.exceptions import MlflowException

    try:
        if ref.alias:
            return client.get_model_version_by_alias(ref.name, ref.alias)
        if ref.version:
            return client.get_model_version(ref.name, ref.version)
        versions = client.search_model_versions(f"name = '{ref.name}'")
    except MlflowException as exc:
        if _not_found(exc):
            raise ModelNotFoundError(
                f"No model version {ref} in the registry; `strata model list` shows what exists."
            ) from None
        raise
    if not versions:
        raise ModelNotFoundError(
            f"No registered model '{ref.name}'; `strata model list` shows what exists."
        )
    return max(versions, key=lambda v: int(v.version))


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


def current_dvc_hash(root: Path, path: str) -> str | None:
    """The hash DVC records for ``path`` now: its ``.dvc`` file, else ``dvc.lock``."""
    dvc_file = root / f"{path}.dvc"
    if dvc_file.is_file():
        meta = yaml.safe_load(dvc_file.read_text(encoding="utf-8")) or {}
        for out in meta.get("outs", []):
            if (Path(path).parent / str(out.get("path", ""))).as_posix() == path:
                return str(out.get("md5"))
    lock = root / "dvc.lock"
    if lock.is_file():
        stages = (yaml.safe_load(lock.read_text(encoding="utf-8")) or {}).get("stages", {})
        for stage in stages.values():
            for entry in [*stage.get("outs", []), *stage.get("deps", [])]:
                if str(entry.get("path")) == path and "md5" in entry:
                    return str(entry["md5"])
    return None


def commit_exists(root: Path, commit: str) -> bool:
    """Whether ``commit`` is a commit of the project's git repository."""
    if not re.fullmatch(r"[0-9a-f]{7,64}", commit):
        return False
    try:
        done = subprocess.run(
            ["git", "cat-file", "-e", f"{commit}^{{commit}}"],
            cwd=root,
            capture_output=True,
            check=False,
            timeout=30,
        )
    except OSError as exc:
        raise StrataError(
            f"git cannot run ({exc.strerror}); install git to check which code built a model."
        ) from None
    return done.returncode == 0


def download_artifact(source: str, destination: Path) -> Path:
    """Download a version's artifact folder (through the tracking server's proxy)."""
    import mlflow

    return Path(mlflow.artifacts.download_artifacts(artifact_uri=source, dst_path=str(destination)))


@dataclass(frozen=True)
class Deployed:
    """What the serving gateway reports for a model: the version it serves and its digest."""

    version: str
    artifact_sha256: str


def verify(
    client: Any,
    info: VersionInfo,
    root: Path,
    download: Callable[[str, Path], Path] = download_artifact,
    deployed: Deployed | None = None,
) -> list[Finding]:
    """Re-check a version's lineage against the store, git, DVC and the serving gateway.

    ``deployed`` is what the gateway serves under the model's name (``None`` when it
    serves nothing under it or is not running). No side effects.
    """
    lineage = info.lineage
    findings = [Finding(f"tag {tag}", "fail", "missing") for tag in lineage.missing]

    with tempfile.TemporaryDirectory(prefix="strata-verify-") as scratch:
        try:
            digest = tree_sha256(download(info.source, Path(scratch)))
        except Exception as exc:  # the store's error is the finding
            findings.append(Finding("artifact", "fail", f"cannot download {info.source}: {exc}"))
        else:
            if not lineage.artifact_sha256:
                findings.append(Finding("artifact", "fail", f"stored sha256 {digest}, no tag"))
            elif digest == lineage.artifact_sha256:
                findings.append(Finding("artifact", "ok", f"sha256 {digest[:16]}… matches"))
            else:
                findings.append(
                    Finding(
                        "artifact",
                        "fail",
                        f"stored sha256 {digest[:16]}… != tagged {lineage.artifact_sha256[:16]}…",
                    )
                )

    if lineage.git_commit:
        if commit_exists(root, lineage.git_commit):
            findings.append(
                Finding("git commit", "ok", f"{lineage.git_commit[:12]} is in the history")
            )
        else:
            findings.append(
                Finding(
                    "git commit", "fail", f"{lineage.git_commit[:12]} is not in {root}'s history"
                )
            )
    if lineage.git_dirty == "true":
        findings.append(Finding("git dirty", "warn", "trained with uncommitted changes"))

    for path, recorded in lineage.data.items():
        now = current_dvc_hash(root, path)
        if now is None:
            findings.append(Finding(f"data {path}", "warn", "no longer tracked by DVC here"))
        elif now == recorded:
            findings.append(Finding(f"data {path}", "ok", f"unchanged ({recorded[:12]})"))
        else:
            findings.append(
                Finding(f"data {path}", "warn", f"changed since: {recorded[:12]} → {now[:12]}")
            )

    if lineage.tracking_run and lineage.tracking_run != info.run_id:
        findings.append(
            Finding(
                "tracking run", "fail", f"tag {lineage.tracking_run} != version run {info.run_id}"
            )
        )
    elif lineage.tracking_run:
        findings.append(Finding("tracking run", "ok", info.run_id))

    if deployed is not None and deployed.version == info.version:
        if deployed.artifact_sha256 == lineage.artifact_sha256:
            findings.append(
                Finding("serving", "ok", "the gateway serves this version; its files match the tag")
            )
        else:
            findings.append(
                Finding(
                    "serving",
                    "fail",
                    f"the gateway serves files with sha256 {deployed.artifact_sha256[:16]}…",
                )
            )
    elif deployed is not None:
        findings.append(Finding("serving", "ok", f"the gateway serves version {deployed.version}"))
    return findings


def _history(client: Any, name: str, alias: str) -> list[str]:
    model = client.get_registered_model(name)
    raw = (model.tags or {}).get(HISTORY_TAG + alias, "[]")
    try:
        history = json.loads(raw)
    except json.JSONDecodeError:
        return []
    return [str(v) for v in history] if isinstance(history, list) else []


def _record(client: Any, name: str, version: str, event: str, values: Mapping[str, str]) -> None:
    for key, value in values.items():
        client.set_model_version_tag(name, version, f"{TAG_PREFIX}{event}.{key}", value)


def promote(
    client: Any,
    ref: ModelRef,
    alias: str,
    thresholds: list[Threshold],
    *,
    reason: str,
    actor: str,
    now: datetime | None = None,
) -> AliasMove:
    """Point ``alias`` at the version if it passes every threshold; record who, when, why."""
    if not thresholds:
        raise QualityGateError(
            f"The project declares no quality gate; add {SETTING} to pyproject.toml "
            "(e.g. test_roc_auc = { min = 0.75 }) before promoting."
        )
    info = describe(client, ref)
    results = judge(thresholds, info.metrics)
    failed = [r for r in results if not r.passed]
    if failed:
        raise QualityGateError(
            f"{info.name} version {info.version} fails the quality gate ("
            + "; ".join(r.explain() for r in failed)
            + f"): '{alias}' not moved."
        )
    previous = _alias_version(client, info.name, alias)
    history = _history(client, info.name, alias)
    if previous and (not history or history[-1] != previous):
        history.append(previous)  # the alias was set outside strata: keep it reachable
    if previous != info.version:
        client.set_registered_model_alias(info.name, alias, info.version)
        history.append(info.version)
        client.set_registered_model_tag(info.name, HISTORY_TAG + alias, json.dumps(history))
    _record(
        client,
        info.name,
        info.version,
        "promotion",
        {
            "alias": alias,
            "by": actor,
            "at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
            "reason": reason,
            "previous": previous or "none",
            "gate": "; ".join(r.explain() for r in results),
        },
    )
    return AliasMove(info.name, alias, info.version, previous, results)


def _alias_version(client: Any, name: str, alias: str) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException as exc:
        if _not_found(exc) or "alias" in str(exc).lower():
            return None
        raise


def rollback(
    client: Any, name: str, alias: str, *, reason: str, actor: str, now: datetime | None = None
) -> AliasMove:
    """Point ``alias`` back at the version it held before the current one."""
    current = _alias_version(client, name, alias)
    if current is None:
        raise ModelNotFoundError(f"{name} has no '{alias}' alias to roll back.")
    history = _history(client, name, alias)
    while history and history[-1] == current:
        history.pop()
    if not history:
        raise InvalidInputError(
            f"{name}@{alias} (version {current}) has no earlier version recorded by "
            "`strata model promote` to return to."
        )
    target = history[-1]
    client.set_registered_model_alias(name, alias, target)
    client.set_registered_model_tag(name, HISTORY_TAG + alias, json.dumps(history))
    _record(
        client,
        name,
        target,
        "rollback",
        {
            "alias": alias,
            "by": actor,
            "at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
            "reason": reason,
            "from": current,
        },
    )
    return AliasMove(name, alias, target, current)
