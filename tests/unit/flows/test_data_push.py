"""Which DVC-tracked paths and hashes `strata data push` announces."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratakit.data_versions import read_hashes
from stratakit.errors import InvalidInputError
from stratakit.flows.data_push import select_data

LOCK = """schema: '2.0'
stages:
  featurize:
    cmd: python featurize.py
    deps:
    - path: data/raw.csv
      md5: aaaa
    outs:
    - path: data/features.parquet
      md5: bbbb
      size: 10
    - path: models
      md5: cccc.dir
"""


def test_the_announced_data_is_every_dvc_output(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "raw.csv.dvc").write_text(
        "outs:\n- md5: 1111\n  size: 3\n  hash: md5\n  path: raw.csv\n"
    )
    (tmp_path / "dvc.lock").write_text(LOCK)
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "vendored.dvc").write_text("outs:\n- md5: 9999\n  path: x\n")
    assert read_hashes(tmp_path).outputs == {
        "data/features.parquet": "bbbb",
        "data/raw.csv": "1111",
        "models": "cccc.dir",
    }


def test_no_dvc_means_no_data(tmp_path: Path) -> None:
    assert read_hashes(tmp_path).outputs == {}


def test_select_data_keeps_the_named_paths_or_says_what_is_tracked() -> None:
    data = {"data/raw.csv": "1111", "models": "cccc.dir"}
    assert select_data(data, []) == data
    assert select_data(data, ["models"]) == {"models": "cccc.dir"}
    with pytest.raises(InvalidInputError, match=r"'data/other\.csv' is not tracked by DVC here"):
        select_data(data, ["data/other.csv"])
