"""One real model folder per gateway test module, loaded as the gateway loads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratakit.gateway.loading import LoadedModel, load_folder
from stratakit.registry.lineage import tree_sha256

from ...helpers.models import save_churn_model


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_churn_model(tmp_path_factory.mktemp("model") / "model")


@pytest.fixture(scope="module")
def model(model_folder: Path) -> LoadedModel:
    return load_folder("churn", "7", model_folder, tree_sha256(model_folder))
