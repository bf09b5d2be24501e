import json
import os
import shlex
import subprocess

import pytest

from stratakit.contract import TELEMETRY_OFF, exported, render
from stratakit.project import Project
from stratakit.stack_context import contract_for, prepare_context

REQUIRED = {
    "AWS_ENDPOINT_URL_S3",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "AWS_REQUEST_CHECKSUM_CALCULATION",
    "AWS_RESPONSE_CHECKSUM_VALIDATION",
    "STRATA_BUCKET",
    "MLFLOW_TRACKING_URI",
    "PREFECT_API_URL",
}


def test_contract_holds_every_required_variable(project: Project) -> None:
    contract = contract_for(prepare_context(project))
    assert contract.keys() >= REQUIRED
    assert contract["AWS_REQUEST_CHECKSUM_CALCULATION"] == "when_required"
    assert contract["AWS_RESPONSE_CHECKSUM_VALIDATION"] == "when_required"
    assert contract["PREFECT_API_URL"].endswith("/api")
    for key, value in TELEMETRY_OFF.items():
        assert contract[key] == value


def test_every_endpoint_is_loopback(project: Project) -> None:
    contract = contract_for(prepare_context(project))
    for key in ("AWS_ENDPOINT_URL_S3", "MLFLOW_TRACKING_URI", "PREFECT_API_URL"):
        assert contract[key].startswith("http://127.0.0.1:"), key


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


def test_shell_format_is_eval_safe_for_generated_secrets(project: Project) -> None:
    contract = contract_for(prepare_context(project))
    for line in render(contract, "shell").splitlines():
        assert shlex.split(line)[0] == "export"


def test_exported_contract_is_undone_after_the_block(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.delenv("STRATA_BUCKET", raising=False)
    with exported({"AWS_DEFAULT_REGION": "us-east-1", "STRATA_BUCKET": "b"}):
        assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
        assert os.environ["STRATA_BUCKET"] == "b"
    assert os.environ["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert "STRATA_BUCKET" not in os.environ
