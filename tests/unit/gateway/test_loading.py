"""Loading a model version for serving: digest check, load failures, download and its cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from stratakit.errors import ModelLoadError
from stratakit.gateway.loading import load_folder, load_version
from stratakit.registry.lineage import tree_sha256

DIGEST_TAG = "strata.artifact_sha256"


@pytest.fixture
def source(model_folder: Path, tmp_path: Path) -> Path:
    """A copy of the model's artifact folder (a local path is a valid MLflow artifact URI)."""
    return Path(shutil.copytree(model_folder, tmp_path / "artifacts" / "model"))


def test_a_folder_matching_its_digest_loads_with_the_fast_path(model_folder: Path) -> None:
    digest = tree_sha256(model_folder)
    model = load_folder("churn", "3", model_folder, digest)
    assert (model.name, model.version) == ("churn", "3")
    assert model.artifact_sha256 == digest
    assert model.fast is not None
    assert model.predict_fn == "predict_proba"


def test_a_folder_that_differs_from_its_digest_is_refused(model_folder: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"strata model verify churn/3") as caught:
        load_folder("churn", "3", model_folder, "0" * 64)
    assert tree_sha256(model_folder)[:12] in str(caught.value)


def test_a_folder_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ModelLoadError, match="churn/3 cannot be loaded"):
        load_folder("churn", "3", tmp_path)


def test_a_version_is_downloaded_into_the_model_folder(source: Path, tmp_path: Path) -> None:
    model_dir = tmp_path / "models"
    digest = tree_sha256(source)
    model = load_version("churn", "4", {DIGEST_TAG: digest}, str(source), model_dir)
    assert model.artifact_sha256 == digest
    assert tree_sha256(model_dir / "churn" / "4") == digest
    assert [p.name for p in (model_dir / "churn").iterdir()] == ["4"]


def test_a_downloaded_version_is_reused_without_downloading_again(
    source: Path, tmp_path: Path
) -> None:
    model_dir = tmp_path / "models"
    tags = {DIGEST_TAG: tree_sha256(source)}
    first = load_version("churn", "4", tags, str(source), model_dir)
    shutil.rmtree(source)  # a second download would now fail
    again = load_version("churn", "4", tags, str(source), model_dir)
    assert again.artifact_sha256 == first.artifact_sha256
    assert [p.name for p in (model_dir / "churn").iterdir()] == ["4"]


def test_a_download_that_fails_its_digest_is_discarded(source: Path, tmp_path: Path) -> None:
    model_dir = tmp_path / "models"
    with pytest.raises(ModelLoadError, match="strata model verify churn/5"):
        load_version("churn", "5", {DIGEST_TAG: "f" * 64}, str(source), model_dir)
    assert list((model_dir / "churn").iterdir()) == []


def test_a_missing_source_is_a_load_error_and_leaves_no_scratch(tmp_path: Path) -> None:
    model_dir = tmp_path / "models"
    with pytest.raises(ModelLoadError, match="churn/6 cannot be downloaded"):
        load_version("churn", "6", {}, str(tmp_path / "nowhere"), model_dir)
    assert list((model_dir / "churn").iterdir()) == []
