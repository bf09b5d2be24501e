"""What DVC records: outputs from ``*.dvc`` files and ``dvc.lock``, inputs from the lock."""

from __future__ import annotations

from pathlib import Path

from stratakit.data_versions import read_hashes


def test_hashes_come_from_dvc_files_then_the_lock(tmp_path: Path) -> None:
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "x.csv.dvc").write_text("outs:\n- md5: aaa\n  path: x.csv\n")
    (tmp_path / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  featurize:\n    deps:\n    - path: data/raw/x.csv\n"
        "      md5: stale\n    - path: params.yaml\n      md5: ppp\n    outs:\n"
        "    - path: data/features\n      md5: bbb.dir\n"
    )
    hashes = read_hashes(tmp_path)
    assert hashes.outputs == {"data/features": "bbb.dir", "data/raw/x.csv": "aaa"}
    assert hashes.current("data/raw/x.csv") == "aaa"  # an output wins over a stale input
    assert hashes.current("data/features") == "bbb.dir"
    assert hashes.current("params.yaml") == "ppp"
    assert hashes.current("data/other") is None


def test_state_and_environment_folders_are_not_searched(tmp_path: Path) -> None:
    for folder in (".venv", ".strata", "node_modules"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.dvc").write_text("outs:\n- md5: 0bad\n  path: x\n")
    (tmp_path / "model.pkl.dvc").write_text("outs:\n- md5: 600d\n  path: model.pkl\n")
    assert read_hashes(tmp_path).outputs == {"model.pkl": "600d"}


def test_a_project_without_dvc_has_no_hashes(tmp_path: Path) -> None:
    hashes = read_hashes(tmp_path)
    assert hashes.outputs == {} and hashes.inputs == {}
