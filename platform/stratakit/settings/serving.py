"""``[tool.strata.serving]``: which alias the gateway serves and how it polls and logs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stratakit.errors import SettingsError
from stratakit.settings import _validate

#: The alias the gateway serves unless ``[tool.strata.serving] alias`` names another.
DEFAULT_ALIAS = "production"
_ALIAS = re.compile(r"[A-Za-z0-9_-]+")
_LOCATION = _validate.where("serving")


@dataclass(frozen=True)
class ServingSettings:
    """The gateway's knobs; ``None`` leaves the gateway's own default in place."""

    alias: str = DEFAULT_ALIAS
    poll_seconds: float | None = None
    log_flush_seconds: float | None = None
    max_body_bytes: int | None = None
    grpc: bool = False
    """Serve the Open Inference Protocol's gRPC form too, on a port of its own."""

    def environment(self) -> dict[str, str]:
        """The gateway's ``STRATA_*`` variables for the values set here."""
        values = {
            "STRATA_SERVING_ALIAS": self.alias,
            "STRATA_GATEWAY_POLL_SECONDS": self.poll_seconds,
            "STRATA_GATEWAY_LOG_FLUSH_SECONDS": self.log_flush_seconds,
            "STRATA_GATEWAY_MAX_BODY_BYTES": self.max_body_bytes,
        }
        return {key: _plain(value) for key, value in values.items() if value is not None}


def _plain(value: object) -> str:
    """``2`` rather than ``2.0`` for whole numbers, as the user wrote them."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_serving(raw: object) -> ServingSettings:
    """Validate ``[tool.strata.serving]``."""
    entries: Mapping[str, Any] = _validate.table(raw, _LOCATION)
    _validate.known_keys(entries, ("alias", "poll_seconds", "log_flush_seconds",
                                   "max_body_bytes", "grpc"), _LOCATION)  # fmt: skip
    alias = entries.get("alias", DEFAULT_ALIAS)
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias):
        raise SettingsError(
            f"pyproject.toml {_LOCATION}.alias = {alias!r} must be an alias name "
            "(letters, digits, '-' and '_')."
        )
    seconds = {
        key: _validate.positive_number(entries[key], f"{_LOCATION}.{key}")
        for key in ("poll_seconds", "log_flush_seconds")
        if key in entries
    }
    max_body = entries.get("max_body_bytes")
    return ServingSettings(
        alias=alias,
        poll_seconds=seconds.get("poll_seconds"),
        log_flush_seconds=seconds.get("log_flush_seconds"),
        max_body_bytes=None
        if max_body is None
        else _validate.integer(max_body, f"{_LOCATION}.max_body_bytes", 1),
        grpc=_validate.boolean(entries.get("grpc", False), f"{_LOCATION}.grpc"),
    )
