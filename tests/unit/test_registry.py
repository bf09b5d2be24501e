"""Model registry logic that needs no server: references, lineage tags, the quality gate,
DVC hashes, git commits, and the kit's digest agreeing with the template's."""

from __future__ import annotations

import importlib.util
import math
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from stratakit.errors import InvalidInputError, StrataError
from stratakit.lineage import REQUIRED, TAG_PREFIX, Lineage, tree_sha256
from stratakit.project import Project
from stratakit.quality_gate import Threshold, judge, load_gate
from stratakit.registry import (
    Deployed,
    ModelRef,
    VersionInfo,
    commit_exists,
    current_dvc_hash,
    verify,
)
from stratakit.stack_context import prepare_context

from ..conftest import strata

KIT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_LINEAGE = KIT_ROOT / "template" / "src" / "{{ package_name }}" / "lineage.py"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("churn", ModelRef("churn")),
        ("churn@production", ModelRef("churn", alias="production")),
        ("churn_v2/12", ModelRef("churn_v2", version="12")),
    ],
)
def test_model_references(text: str, expected: ModelRef) -> None:
    assert ModelRef.parse(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize("text", ["", "churn@", "churn/x", "churn/1/2", "@prod", "a b"])
def test_bad_model_references_name_the_accepted_forms(text: str) -> None:
    with pytest.raises(InvalidInputError, match="NAME@ALIAS or NAME/VERSION"):
        ModelRef.parse(text)


def full_tags() -> dict[str, str]:
    tags = {TAG_PREFIX + key: f"value-{key}" for key in REQUIRED}
    tags[TAG_PREFIX + "features"] = "a,b"
    tags[TAG_PREFIX + "data.data/raw/x.csv"] = "abc"
    return tags


def test_lineage_reads_every_tag() -> None:
    lineage = Lineage.from_tags(full_tags())
    assert lineage.missing == ()
    assert lineage.features == ("a", "b")
    assert lineage.data == {"data/raw/x.csv": "abc"}


def test_lineage_lists_missing_and_empty_tags() -> None:
    tags = full_tags()
    del tags[TAG_PREFIX + "owner"]
    tags[TAG_PREFIX + "git_commit"] = "  "
    del tags[TAG_PREFIX + "data.data/raw/x.csv"]
    missing = Lineage.from_tags(tags).missing
    assert set(missing) == {"strata.owner", "strata.git_commit", "strata.data.<path>"}


def test_kit_digest_is_the_templates(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("template_lineage", TEMPLATE_LINEAGE)
    assert spec and spec.loader
    template_lineage = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(template_lineage)
    (tmp_path / "sub").mkdir()
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    (tmp_path / "sub" / "model.pkl").write_bytes(b"\x00\x01weights")
    assert tree_sha256(tmp_path) == template_lineage.tree_sha256(tmp_path)
    before = tree_sha256(tmp_path)
    (tmp_path / "sub" / "model.pkl").write_bytes(b"\x00\x02weights")
    assert tree_sha256(tmp_path) != before


def test_gate_loads_and_judges() -> None:
    gate = load_gate({"quality_gate": {"auc": {"min": 0.8}, "loss": {"max": 0.5, "min": 0}}})
    assert gate == [Threshold("auc", min=0.8), Threshold("loss", min=0.0, max=0.5)]
    results = judge(gate, {"auc": 0.79, "loss": 0.2})
    assert [r.passed for r in results] == [False, True]
    assert results[0].explain() == "auc = 0.79 fails auc >= 0.8"
    assert not judge(gate, {"loss": 0.2})[0].passed  # missing metric
    assert "not logged" in judge(gate, {})[0].explain()
    assert not judge(gate, {"auc": math.nan})[0].passed
    assert load_gate({}) == []


@pytest.mark.parametrize(
    "table",
    [
        {"auc": 0.8},
        {"auc": {}},
        {"auc": {"minimum": 0.8}},
        {"auc": {"min": "high"}},
        {"auc": {"min": True}},
        {"auc": {"min": 0.9, "max": 0.1}},
        "auc >= 0.8",
    ],
)
def test_bad_gate_settings_are_refused(table: object) -> None:
    with pytest.raises(InvalidInputError, match=r"\[tool.strata.quality_gate\]"):
        load_gate({"quality_gate": table})


def test_current_dvc_hash_reads_dvc_files_then_the_lock(tmp_path: Path) -> None:
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "x.csv.dvc").write_text("outs:\n- md5: aaa\n  path: x.csv\n")
    (tmp_path / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  featurize:\n    deps:\n    - path: data/raw/x.csv\n"
        "      md5: stale\n    outs:\n    - path: data/features\n      md5: bbb.dir\n"
    )
    assert current_dvc_hash(tmp_path, "data/raw/x.csv") == "aaa"
    assert current_dvc_hash(tmp_path, "data/features") == "bbb.dir"
    assert current_dvc_hash(tmp_path, "data/other") is None


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


def test_model_commands_say_to_start_the_stack(project: Project) -> None:
    prepare_context(project)
    result = strata("model", "list", cwd=project.root)
    assert result.returncode == 1
    assert "strata stack up" in result.stderr
    assert "Traceback" not in result.stderr


def test_verify_compares_the_served_files_with_the_tag(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "model.pkl").write_bytes(b"weights")
    digest = tree_sha256(store)
    tags = {**full_tags(), TAG_PREFIX + "artifact_sha256": digest}
    info = VersionInfo(
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

    def serving(deployed: Deployed | None) -> tuple[str, str] | None:
        findings = verify(
            None, info, tmp_path, download=lambda source, dest: store, deployed=deployed
        )
        found = [f for f in findings if f.check == "serving"]
        return (found[0].level, found[0].detail) if found else None

    assert serving(None) is None  # no gateway, or nothing served under the name
    assert serving(Deployed("3", digest)) == (
        "ok",
        "the gateway serves this version; its files match the tag",
    )
    level, detail = serving(Deployed("3", "f" * 64)) or ("", "")
    assert level == "fail" and "ffffffff" in detail
    assert serving(Deployed("2", "e" * 64)) == ("ok", "the gateway serves version 2")
