"""DVC with an ``s3://`` remote reaches the store through the environment contract alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..helpers.stacks import RunningStack

pytestmark = pytest.mark.e2e


def run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout


def test_dvc_push_then_pull_from_a_fresh_clone(stack: RunningStack, tmp_path: Path) -> None:
    dvc = str(Path(sys.executable).parent / "dvc")
    env = {
        **stack.env(),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "HOME": str(tmp_path / "home"),
    }
    origin = tmp_path / "origin"
    (origin / "data").mkdir(parents=True)
    payload = os.urandom(3 * 1024 * 1024)
    (origin / "data" / "raw.bin").write_bytes(payload)
    (origin / "data" / "labels.csv").write_text("id,label\n1,cat\n2,dog\n")
    run(["git", "init", "-q", "-b", "main"], origin, env)
    run([dvc, "init", "-q"], origin, env)
    run([dvc, "config", "core.site_cache_dir", str(tmp_path / "site-cache")], origin, env)
    run([dvc, "remote", "add", "-d", "store", f"s3://{stack.bucket}/dvc"], origin, env)
    run([dvc, "add", "-q", "data"], origin, env)
    run(["git", "add", "-A"], origin, env)
    run(["git", "commit", "-q", "-m", "data"], origin, env)
    config = (origin / ".dvc" / "config").read_text()
    assert stack.contract["AWS_SECRET_ACCESS_KEY"] not in config
    assert "127.0.0.1" not in config  # no endpoint committed: it comes from the contract
    run([dvc, "push", "-q"], origin, env)

    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(origin), str(clone)], tmp_path, env)
    assert not (clone / "data" / "raw.bin").exists()
    run([dvc, "pull", "-q"], clone, env)
    assert (clone / "data" / "raw.bin").read_bytes() == payload
    assert (clone / "data" / "labels.csv").read_text() == "id,label\n1,cat\n2,dog\n"
