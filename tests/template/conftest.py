"""The template matrix, rendered once per answer set for every template test module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ..helpers.templates import MATRIX, render


@pytest.fixture(scope="package", params=sorted(MATRIX))
def rendered(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    """Each answer set of the matrix, rendered once for every test module (no tasks run)."""
    dest = render(tmp_path_factory.mktemp(request.param) / "project", MATRIX[request.param])
    answered = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    return dest, answered
