"""The environment contract: the one set of variables every profile of the stack ends in.

Generated projects read only these variables, never a hard-coded host. This is also the
only module that reads the process environment; everything else receives a mapping.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Literal

ContractFormat = Literal["shell", "dotenv", "json"]
FORMATS: tuple[ContractFormat, ...] = ("shell", "dotenv", "json")

#: Switches that keep every bundled tool from phoning home.
TELEMETRY_OFF: Mapping[str, str] = {
    "DO_NOT_TRACK": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DVC_NO_ANALYTICS": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "FEAST_USAGE": "False",
    "WANDB_ERROR_REPORTING": "false",
}

#: Settings S3-compatible stores need from botocore (no CRC checksums they do not speak).
S3_COMPAT: Mapping[str, str] = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
    "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
}


def assemble(parts: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """Merge contract fragments (later ones win) into one sorted mapping."""
    merged: dict[str, str] = {}
    for part in parts:
        merged.update(part)
    return dict(sorted(merged.items()))


def render(contract: Mapping[str, str], fmt: ContractFormat) -> str:
    """Render the contract for a shell (``eval``), a ``.env`` file, or JSON."""
    if fmt == "json":
        return json.dumps(dict(contract), indent=2, sort_keys=True) + "\n"
    if fmt == "shell":
        return "".join(f"export {k}={shlex.quote(v)}\n" for k, v in contract.items())
    header = "# Written by `strata stack up`: the stack's environment contract. Do not commit.\n"
    return header + "".join(f"{k}={_dotenv_value(v)}\n" for k, v in contract.items())


def _dotenv_value(value: str) -> str:
    if value and all(c.isalnum() or c in "-_./:@+," for c in value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


#: Variables a library sets in its own process and removes the target of when that process
#: exits: importing Feast points ``PROMETHEUS_MULTIPROC*_DIR`` at a temporary folder
#: (feast/metrics.py). A child that inherits them outlives the folder, and its own import
#: of Feast (or prometheus_client in multiprocess mode) fails with FileNotFoundError.
PROCESS_LOCAL = ("PROMETHEUS_MULTIPROC_DIR", "PROMETHEUS_MULTIPROCESS_DIR")


def process_environment() -> dict[str, str]:
    """A copy of this process's environment, for starting children on top of it.

    Variables in :data:`PROCESS_LOCAL` are left out: they belong to this process only.
    """
    return {k: v for k, v in os.environ.items() if k not in PROCESS_LOCAL}


def child_environment(contract: Mapping[str, str], extra: Mapping[str, str] = {}) -> dict[str, str]:
    """The environment a stack process or client subprocess runs with."""
    return {**process_environment(), **contract, **extra}


@contextmanager
def exported(contract: Mapping[str, str]) -> Iterator[None]:
    """Make the contract part of this process's environment for the duration of a block.

    Clients (boto3, MLflow, Prefect, DVC) then configure themselves from it exactly as a
    user's code would. The previous values come back afterwards, so commands started
    later (another project's ``uv run``) do not inherit this project's endpoints.
    """
    saved = {key: os.environ.get(key) for key in contract}
    os.environ.update(contract)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
