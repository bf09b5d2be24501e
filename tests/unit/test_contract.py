"""The contract's formats (shell, dotenv, JSON) and exporting it for one block."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from stratakit.contract import child_environment, exported, render


def test_shell_format_round_trips_through_a_real_shell() -> None:
    contract = {"PLAIN": "abc", "TRICKY": "a b'c\"$HOME`x`", "EMPTY": ""}
    script = render(contract, "shell") + 'printf "%s|%s|%s" "$PLAIN" "$TRICKY" "$EMPTY"'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout == "abc|a b'c\"$HOME`x`|"


def test_dotenv_format_quotes_what_needs_it() -> None:
    text = render({"A": "simple-value", "B": "has space", "C": 'q"uote'}, "dotenv")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == ["A=simple-value", 'B="has space"', 'C="q\\"uote"']


def test_json_format_parses() -> None:
    assert json.loads(render({"X": "1"}, "json")) == {"X": "1"}


def test_exported_contract_is_undone_after_the_block(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.delenv("STRATA_BUCKET", raising=False)
    with exported({"AWS_DEFAULT_REGION": "us-east-1", "STRATA_BUCKET": "b"}):
        assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
        assert os.environ["STRATA_BUCKET"] == "b"
    assert os.environ["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert "STRATA_BUCKET" not in os.environ


def test_children_do_not_inherit_a_folder_that_dies_with_this_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Feast points PROMETHEUS_MULTIPROC_DIR at a temp folder it deletes at exit."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/tmp/feast_metrics_gone")
    monkeypatch.setenv("PROMETHEUS_MULTIPROCESS_DIR", "/tmp/feast_metrics_gone")
    env = child_environment({"STRATA_BUCKET": "b"})
    assert "PROMETHEUS_MULTIPROC_DIR" not in env
    assert "PROMETHEUS_MULTIPROCESS_DIR" not in env
    assert env["STRATA_BUCKET"] == "b"
    assert env["PATH"]
