"""``strata model verify``: re-check what a version's lineage tags claim.

Each claim is checked against its source of truth: the artifact in the store (re-hashed),
the project's git history, DVC's records of the data, the tracking run, and what the
serving gateway actually loaded.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stratakit.checks import CheckResult
from stratakit.data_versions import read_hashes
from stratakit.errors import StrataError
from stratakit.registry.catalog import VersionInfo
from stratakit.registry.lineage import digest_matches, tree_sha256
from stratakit.registry.tracking_api import PROXIED_SCHEME, TrackingAPI


@dataclass(frozen=True)
class Deployed:
    """What the serving gateway reports for a model: the version it serves and its digest."""

    version: str
    artifact_sha256: str


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


def download_version(api: TrackingAPI, name: str, version: str, destination: Path) -> Path:
    """Download a version's artifact folder into ``destination``; returns the folder.

    Over the tracking server's artifact proxy when it serves them (the stack's does); from
    wherever else they live (S3, a file store) through MLflow's own client.
    """
    uri = api.download_uri(name, version)
    if uri.startswith(PROXIED_SCHEME):
        return api.download_proxied(uri, destination)
    import mlflow

    return Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(destination)))


def _artifact(info: VersionInfo, download: Callable[[Path], Path]) -> CheckResult:
    tagged = info.lineage.artifact_sha256
    with tempfile.TemporaryDirectory(prefix="strata-verify-") as scratch:
        try:
            folder = download(Path(scratch))
            digest = tree_sha256(folder)
        except Exception as exc:  # the store's error is the finding
            return CheckResult("artifact", "fail", f"cannot download {info.source}: {exc}")
        matches = bool(tagged) and digest_matches(folder, tagged)
    if not tagged:
        return CheckResult("artifact", "fail", f"stored sha256 {digest}, no tag")
    if matches:
        return CheckResult("artifact", "ok", f"sha256 {tagged[:16]}… matches")
    return CheckResult("artifact", "fail", f"stored sha256 {digest[:16]}… != tagged {tagged[:16]}…")


def _code(info: VersionInfo, root: Path) -> list[CheckResult]:
    commit = info.lineage.git_commit
    results = []
    if commit and commit_exists(root, commit):
        results.append(CheckResult("git commit", "ok", f"{commit[:12]} is in the history"))
    elif commit:
        results.append(
            CheckResult("git commit", "fail", f"{commit[:12]} is not in {root}'s history")
        )
    if info.lineage.git_dirty == "true":
        results.append(CheckResult("git dirty", "warn", "trained with uncommitted changes"))
    return results


def _data(info: VersionInfo, root: Path) -> list[CheckResult]:
    if not info.lineage.data:
        return []
    hashes = read_hashes(root)
    results = []
    for path, recorded in info.lineage.data.items():
        now = hashes.current(path)
        if now is None:
            results.append(CheckResult(f"data {path}", "warn", "no longer tracked by DVC here"))
        elif now == recorded:
            results.append(CheckResult(f"data {path}", "ok", f"unchanged ({recorded[:12]})"))
        else:
            results.append(
                CheckResult(f"data {path}", "warn", f"changed since: {recorded[:12]} → {now[:12]}")
            )
    return results


def _run(info: VersionInfo) -> list[CheckResult]:
    tagged = info.lineage.tracking_run
    if not tagged:
        return []
    if tagged != info.run_id:
        return [CheckResult("tracking run", "fail", f"tag {tagged} != version run {info.run_id}")]
    return [CheckResult("tracking run", "ok", info.run_id)]


def _serving(info: VersionInfo, deployed: Deployed | None) -> list[CheckResult]:
    if deployed is None:
        return []
    if deployed.version != info.version:
        return [CheckResult("serving", "ok", f"the gateway serves version {deployed.version}")]
    if deployed.artifact_sha256 == info.lineage.artifact_sha256:
        return [
            CheckResult("serving", "ok", "the gateway serves this version; its files match the tag")
        ]
    return [
        CheckResult(
            "serving",
            "fail",
            f"the gateway serves files with sha256 {deployed.artifact_sha256[:16]}…",
        )
    ]


def verify(
    info: VersionInfo,
    root: Path,
    download: Callable[[Path], Path],
    deployed: Deployed | None = None,
) -> list[CheckResult]:
    """Re-check a version's lineage against the store, git, DVC and the serving gateway.

    ``download`` puts the version's artifact folder into the folder it is given (see
    :func:`download_version`) and returns it; ``deployed`` is what the gateway serves under
    the model's name (``None`` when it serves nothing under it or is not running). Downloads
    into a temporary folder and asks git; changes nothing in the registry or the project.
    """
    missing = [CheckResult(f"tag {tag}", "fail", "missing") for tag in info.lineage.missing]
    return [
        *missing,
        _artifact(info, download),
        *_code(info, root),
        *_data(info, root),
        *_run(info),
        *_serving(info, deployed),
    ]
