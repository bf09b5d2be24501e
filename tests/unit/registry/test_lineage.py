"""Lineage tags: every question answered or listed as missing, and the kit's digest agreeing
with the template's copy."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

from stratakit.registry.lineage import (
    REQUIRED,
    TAG_PREFIX,
    Lineage,
    digest_matches,
    parse_refs,
    tree_sha256,
)

from ...helpers.projects import KIT_ROOT

TEMPLATE_LINEAGE = KIT_ROOT / "template" / "src" / "{{ package_name }}" / "lineage.py"


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


def test_feature_refs_are_read_from_their_tag() -> None:
    tags = {**full_tags(), TAG_PREFIX + "feature_refs": "view:a, view:b,,"}
    assert Lineage.from_tags(tags).feature_refs == ("view:a", "view:b")
    assert parse_refs(" ") == ()


def test_the_note_mlflow_writes_beside_a_download_is_not_digested(tmp_path: Path) -> None:
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    before = tree_sha256(tmp_path)
    (tmp_path / "registered_model_meta").write_text("model_name: null\nmodel_version: null\n")
    assert tree_sha256(tmp_path) == before
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "registered_model_meta").write_text("part of the model\n")
    assert tree_sha256(tmp_path) != before


def test_tags_of_the_first_release_still_match_their_artifact(tmp_path: Path) -> None:
    """Kit 0.1.0 digested MLflow's download note with the files: those tags still match."""
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    (tmp_path / "model.pkl").write_bytes(b"weights")
    note = tmp_path / "registered_model_meta"
    note.write_text("model_name: null\nmodel_version: null\n")
    hashes = sorted(
        (p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for p in tmp_path.iterdir()
    )
    legacy = hashlib.sha256("".join(f"{n}\0{h}\n" for n, h in hashes).encode()).hexdigest()
    note.unlink()
    assert digest_matches(tmp_path, legacy)
    assert digest_matches(tmp_path, tree_sha256(tmp_path))
    assert not digest_matches(tmp_path, "0" * 64)
    (tmp_path / "model.pkl").write_bytes(b"tampered")
    assert not digest_matches(tmp_path, legacy)
