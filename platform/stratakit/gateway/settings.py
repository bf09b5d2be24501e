"""The gateway's one settings object, read once from the stack's environment contract."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from stratakit.errors import InvalidInputError
from stratakit.settings import DEFAULT_ALIAS

_N = TypeVar("_N", int, float)


@dataclass(frozen=True)
class GatewaySettings:
    """Where the gateway listens, what it serves and where it logs predictions.

    Every field comes from a variable of the contract (``STRATA_GATEWAY_*`` for the
    gateway's own knobs), so a container or a Kubernetes pod configures it the same way.
    """

    host: str
    port: int
    tracking_uri: str
    grpc_port: int | None = None
    """Where the Open Inference Protocol's gRPC form is served too (off when ``None``)."""
    alias: str = DEFAULT_ALIAS
    poll_seconds: float = 2.0
    model_dir: Path = Path(".strata/data/gateway/models")
    bucket: str | None = None
    log_prefix: str = "predictions"
    log_flush_seconds: float = 10.0
    log_batch_rows: int = 50_000
    log_max_pending: int = 200_000
    max_body_bytes: int = 8 * 2**20
    feature_repo: Path | None = None
    """The project's Feast repository, for requests that carry only entity keys."""
    tracking_token: str | None = field(default=None, repr=False)
    tracking_username: str | None = None
    tracking_password: str | None = field(default=None, repr=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> GatewaySettings:
        """Parse the contract; a missing or malformed variable names itself and the fix."""
        tracking_uri = environ.get("MLFLOW_TRACKING_URI", "")
        if not tracking_uri:
            raise InvalidInputError(
                "MLFLOW_TRACKING_URI is not set; the gateway reads models from the registry "
                "(run it through `strata stack up`, or export the contract with `strata env`)."
            )
        return cls(
            host=environ.get("STRATA_GATEWAY_HOST", "127.0.0.1"),
            port=_number(environ, "STRATA_GATEWAY_PORT", 8080, int),
            grpc_port=_number(environ, "STRATA_GATEWAY_GRPC_PORT", 0, int) or None,
            tracking_uri=tracking_uri,
            alias=environ.get("STRATA_SERVING_ALIAS", DEFAULT_ALIAS) or DEFAULT_ALIAS,
            poll_seconds=_number(environ, "STRATA_GATEWAY_POLL_SECONDS", 2.0, float),
            model_dir=Path(environ.get("STRATA_GATEWAY_MODEL_DIR", str(cls.model_dir))),
            bucket=environ.get("STRATA_BUCKET") or None,
            log_prefix=environ.get("STRATA_GATEWAY_LOG_PREFIX", "predictions").strip("/"),
            log_flush_seconds=_number(environ, "STRATA_GATEWAY_LOG_FLUSH_SECONDS", 10.0, float),
            log_batch_rows=_number(environ, "STRATA_GATEWAY_LOG_BATCH_ROWS", 50_000, int),
            log_max_pending=_number(environ, "STRATA_GATEWAY_LOG_MAX_PENDING", 200_000, int),
            max_body_bytes=_number(environ, "STRATA_GATEWAY_MAX_BODY_BYTES", 8 * 2**20, int),
            feature_repo=Path(environ["STRATA_FEATURE_REPO"])
            if environ.get("STRATA_FEATURE_REPO")
            else None,
            # MLflow's own variables, so a production tracking server's auth works unchanged.
            tracking_token=environ.get("MLFLOW_TRACKING_TOKEN") or None,
            tracking_username=environ.get("MLFLOW_TRACKING_USERNAME") or None,
            tracking_password=environ.get("MLFLOW_TRACKING_PASSWORD") or None,
        )


def _number(environ: Mapping[str, str], key: str, default: _N, kind: type[_N]) -> _N:
    raw = environ.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise InvalidInputError(
            f"{key}={raw!r} is not a number; set it to a positive {kind.__name__}."
        ) from None
    if value <= 0:
        raise InvalidInputError(f"{key}={raw!r} must be positive.")
    return value
