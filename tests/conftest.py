"""Fixtures every test folder may use; helpers live in ``tests/helpers``."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratakit.project import Project

from .helpers.projects import make_project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "proj")
