"""``strata model verify`` without a server: git commits, DVC hashes, the served files."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from stratakit.errors import StrataError
from stratakit.registry.catalog import VersionInfo
from stratakit.registry.lineage import REQUIRED, TAG_PREFIX, Lineage, tree_sha256
from stratakit.registry.verify import Deployed, commit_exists, verify


def full_tags() -> dict[str, str]:
    tags = {TAG_PREFIX + key: f"value-{key}" for key in REQUIRED}
    tags[TAG_PREFIX + "features"] = "a,b"
    tags[TAG_PREFIX + "data.data/raw/x.csv"] = "abc"
    return tags


def version_info(tags: dict[str, str]) -> VersionInfo:
    return VersionInfo(
        name="churn",
        version="3",
        aliases=("production",),
        source="models:/m-1",
        run_id="value-tracking_run",
        created=datetime.now(UTC),
        tags=tags,
        metrics={},
        lineage=Lineage.from_tags(tags),
    )


def test_commit_exists_only_for_commits_of_the_repository(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
            cwd=tmp_path, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip

    git("init", "--quiet")
    (tmp_path / "f").write_text("x")
    git("add", "f")
    git("commit", "--quiet", "-m", "one")
    head = git("rev-parse", "HEAD")
    assert commit_exists(tmp_path, head)
    assert not commit_exists(tmp_path, "0" * 40)
    assert not commit_exists(tmp_path, "none")
    assert not commit_exists(tmp_path, "HEAD; rm -rf /")


def test_without_git_the_commit_check_says_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on PATH
    with pytest.raises(StrataError, match="install git"):
        commit_exists(tmp_path, "a" * 40)


def test_verify_compares_the_served_files_with_the_tag(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "model.pkl").write_bytes(b"weights")
    digest = tree_sha256(store)
    info = version_info({**full_tags(), TAG_PREFIX + "artifact_sha256": digest})

    def serving(deployed: Deployed | None) -> tuple[str, str] | None:
        findings = verify(info, tmp_path, download=lambda dest: store, deployed=deployed)
        found = [f for f in findings if f.name == "serving"]
        return (found[0].severity, found[0].detail) if found else None

    assert serving(None) is None  # no gateway, or nothing served under the name
    assert serving(Deployed("3", digest)) == (
        "ok",
        "the gateway serves this version; its files match the tag",
    )
    level, detail = serving(Deployed("3", "f" * 64)) or ("", "")
    assert level == "fail" and "ffffffff" in detail
    assert serving(Deployed("2", "e" * 64)) == ("ok", "the gateway serves version 2")


def test_verify_checks_artifact_data_commit_and_run(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "model.pkl").write_bytes(b"weights")
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "x.csv.dvc").write_text("outs:\n- md5: abc\n  path: x.csv\n")
    tags = {**full_tags(), TAG_PREFIX + "artifact_sha256": tree_sha256(store)}
    tags[TAG_PREFIX + "git_dirty"] = "true"
    results = verify(version_info(tags), tmp_path, download=lambda dest: store)
    found = {r.name: (r.severity, r.detail) for r in results}
    assert found["artifact"][0] == "ok"
    assert found["data data/raw/x.csv"] == ("ok", "unchanged (abc)")
    assert found["git commit"][0] == "fail"  # value-git_commit is no commit of any repository
    assert found["git dirty"][0] == "warn"
    assert found["tracking run"] == ("ok", "value-tracking_run")

    (tmp_path / "data" / "raw" / "x.csv.dvc").write_text("outs:\n- md5: def\n  path: x.csv\n")
    tags[TAG_PREFIX + "artifact_sha256"] = "0" * 64
    results = verify(version_info(tags), tmp_path, download=lambda dest: store)
    found = {r.name: (r.severity, r.detail) for r in results}
    assert found["artifact"][0] == "fail"
    assert found["data data/raw/x.csv"] == ("warn", "changed since: abc → def")


def test_an_artifact_that_cannot_be_downloaded_is_a_failed_check(tmp_path: Path) -> None:
    def unreachable(dest: Path) -> Path:
        raise OSError("connection refused")

    results = verify(version_info(full_tags()), tmp_path, download=unreachable)
    artifact = next(r for r in results if r.name == "artifact")
    assert artifact.severity == "fail" and "connection refused" in artifact.detail
