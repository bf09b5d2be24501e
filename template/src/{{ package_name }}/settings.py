"""Settings: the project's ``[tool.strata]`` table plus the stack's environment contract.

This is the only module that reads the environment. The contract (written to ``.env`` by
``strata stack up``, or provided by CI or production) is the single source of endpoints
and credentials; nothing here hard-codes a host.
"""

from __future__ import annotations

import os
import tomllib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class ConfigurationError(RuntimeError):
    """A setting is missing or malformed; the message says how to fix it."""


@dataclass(frozen=True)
class Settings:
    """Everything a pipeline stage needs to know about its surroundings."""

    root: Path
    params: Mapping[str, object]
    owner: str
    model_name: str
    bucket: str
    tracking: tuple[str, ...]
    tracking_uri: str | None
    pipeline_run: str
    wandb_offline: bool
    feature_repo: Path
    """Feast's repository (``feature_store.yaml`` for the ``feast`` CLI, and the gateway)."""
    feature_registry: Path
    online_store: Mapping[str, object]
    """Feast's ``online_store`` block: SQLite locally, Redis where the contract says so."""
    offline_store: str
    """Where feature tables live: ``s3://BUCKET/features`` with a stack, else a local folder."""
    s3_endpoint: str | None

    def path(self, relative: str) -> Path:
        """A path inside the project."""
        return self.root / relative

    def require_tracking_uri(self) -> str:
        """The MLflow server URL, or an error that says how to start the stack."""
        if not self.tracking_uri:
            raise ConfigurationError(
                "MLFLOW_TRACKING_URI is not set: start the stack with `uv run strata stack up` "
                "and run through `uv run nox -s pipeline` (or `uv run --env-file .env dvc repro`)."
            )
        return self.tracking_uri


def _pipeline_run(environ: Mapping[str, str]) -> str:
    for key in ("STRATA_PIPELINE_RUN", "GITHUB_RUN_ID", "CI_PIPELINE_ID"):
        if environ.get(key):
            return f"{key.lower()}:{environ[key]}"
    return f"local:{uuid.uuid4().hex[:12]}"


def _online_store(env: Mapping[str, str], default: Path) -> Mapping[str, object]:
    raw = env.get("STRATA_FEAST_ONLINE_STORE")
    if not raw:
        return {"type": "sqlite", "path": str(default)}
    block = yaml.safe_load(raw)
    if not isinstance(block, dict) or "type" not in block:
        raise ConfigurationError(
            "STRATA_FEAST_ONLINE_STORE must be Feast's online_store block as JSON, e.g. "
            '{"type": "redis", "connection_string": "cache:6379"}'
        )
    return block


def load_settings(root: Path = PROJECT_ROOT, environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``params.yaml``, ``pyproject.toml`` and the environment contract once."""
    env = os.environ if environ is None else environ
    try:
        params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8")) or {}
        tool = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read the project's configuration: {exc}") from exc
    strata = tool.get("tool", {}).get("strata", {})
    tracking = tuple(params.get("tracking", ["mlflow"]))
    unknown = sorted(set(tracking) - {"mlflow", "wandb"})
    feast_dir = root / ".strata" / "data" / "feast"  # the stack's own default locations
    if unknown:
        raise ConfigurationError(
            f"params.yaml: unknown tracking backend(s) {unknown}; use mlflow and/or wandb."
        )
    return Settings(
        root=root,
        params=params,
        owner=str(strata.get("owner", "unknown")),
        model_name=str(strata.get("model_name", root.name)),
        bucket=env.get("STRATA_BUCKET") or str(strata.get("bucket", "")),
        tracking=tracking,
        tracking_uri=env.get("MLFLOW_TRACKING_URI") or None,
        pipeline_run=_pipeline_run(env),
        wandb_offline=not env.get("WANDB_API_KEY"),
        feature_repo=Path(env.get("STRATA_FEATURE_REPO") or root / "feature_repo"),
        feature_registry=Path(env.get("STRATA_FEAST_REGISTRY") or feast_dir / "registry.db"),
        online_store=_online_store(env, feast_dir / "online.db"),
        offline_store=(
            f"{env['STRATA_S3_URI'].rstrip('/')}/features"
            if env.get("STRATA_S3_URI")
            else str(root / "data" / "warehouse")
        ),
        s3_endpoint=env.get("AWS_ENDPOINT_URL_S3") or None,
    )
