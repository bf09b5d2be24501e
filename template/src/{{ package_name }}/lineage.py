"""Lineage of a model version: which binary, code, data and run produced it.

The tag names and the artifact digest are shared with ``strata model describe|verify``,
which re-check them later against what is actually stored.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml

TAG_PREFIX = "strata."


#: Written by MLflow's client beside a model it downloads through a ``models:/`` URI (the
#: URI's name and version, or nulls); not part of the stored artifact, so not digested.
DOWNLOAD_NOTE = "registered_model_meta"


def tree_sha256(folder: Path) -> str:
    """Digest of a model artifact folder: every file's relative path and sha256, sorted.

    Independent of timestamps, of the order the store lists files in and of how the copy
    was downloaded, so the digest of a downloaded copy equals that of what was uploaded.
    """
    outer = hashlib.sha256()
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).as_posix() != DOWNLOAD_NOTE
    )
    if not files:
        raise ValueError(f"{folder} holds no files to digest")
    for path in files:
        inner = hashlib.sha256(path.read_bytes()).hexdigest()
        outer.update(f"{path.relative_to(folder).as_posix()}\0{inner}\n".encode())
    return outer.hexdigest()


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def git_commit(root: Path) -> str:
    """The checked-out commit, or ``"none"`` outside a git repository or before a commit."""
    return _git(root, "rev-parse", "HEAD") or "none"


def git_dirty(root: Path) -> bool:
    """Whether tracked files differ from the commit (pipeline outputs DVC writes excluded)."""
    status = _git(
        root, "status", "--porcelain", "--untracked-files=no", "--", ".",
        ":(exclude)dvc.lock", ":(exclude)metrics",
    )  # fmt: skip
    return status is None or bool(status)


def dvc_hashes(root: Path, stage: str, extra_dvc_files: Iterable[str] = ()) -> dict[str, str]:
    """DVC content hashes of a stage's inputs (from ``dvc.lock``) and of ``.dvc`` files.

    These are the hashes DVC itself records, so ``dvc status`` and later verification
    compare like with like. Inputs DVC has not locked yet are left out.
    """
    hashes: dict[str, str] = {}
    lock = root / "dvc.lock"
    if lock.is_file():
        stages = (yaml.safe_load(lock.read_text(encoding="utf-8")) or {}).get("stages", {})
        for dep in stages.get(stage, {}).get("deps", []):
            if "md5" in dep and not str(dep["path"]).endswith(".py"):
                hashes[str(dep["path"])] = str(dep["md5"])
    for name in extra_dvc_files:
        meta = yaml.safe_load((root / name).read_text(encoding="utf-8")) or {}
        for out in meta.get("outs", []):
            target = (Path(name).parent / str(out["path"])).as_posix()
            hashes[target] = str(out["md5"])
    return hashes


def lineage_tags(
    *,
    owner: str,
    artifact_sha256: str,
    features: Iterable[str],
    feature_refs: Iterable[str],
    root: Path,
    data_hashes: Mapping[str, str],
    pipeline_run: str,
    tracking_run: str,
) -> dict[str, str]:
    """The tags every registered model version carries (see the project README)."""
    tags = {
        "owner": owner,
        "artifact_sha256": artifact_sha256,
        "features": ",".join(features),
        "feature_refs": ",".join(feature_refs),
        "git_commit": git_commit(root),
        "git_dirty": str(git_dirty(root)).lower(),
        "pipeline_run": pipeline_run,
        "tracking_run": tracking_run,
    }
    tags.update({f"data.{path}": digest for path, digest in sorted(data_hashes.items())})
    return {TAG_PREFIX + key: value for key, value in tags.items()}
