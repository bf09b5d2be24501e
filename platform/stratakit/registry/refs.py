"""Naming a model version: ``NAME``, ``NAME@ALIAS`` or ``NAME/VERSION``, and finding it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stratakit.errors import InvalidInputError, ModelNotFoundError, TrackingServerError
from stratakit.registry.tracking_api import ModelVersion, TrackingAPI

_REF = re.compile(r"^(?P<name>[A-Za-z0-9][\w.\-]*)(?:@(?P<alias>[\w\-]+)|/(?P<version>\d+))?$")


@dataclass(frozen=True)
class ModelRef:
    """``NAME`` (latest version), ``NAME@ALIAS`` or ``NAME/VERSION``."""

    name: str
    alias: str | None = None
    version: str | None = None

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        """Parse a reference; the error shows the three accepted forms."""
        match = _REF.match(text.strip())
        if not match:
            raise InvalidInputError(
                f"'{text}' is not a model reference; use NAME, NAME@ALIAS or NAME/VERSION."
            )
        return cls(match["name"], match["alias"], match["version"])

    def __str__(self) -> str:
        if self.alias:
            return f"{self.name}@{self.alias}"
        return f"{self.name}/{self.version}" if self.version else self.name


def resolve(api: TrackingAPI, ref: ModelRef) -> ModelVersion:
    """The version a reference points at (with its aliases); a clear error when there is none."""
    try:
        if ref.alias:
            return api.version_by_alias(ref.name, ref.alias)
        if ref.version:
            return api.version(ref.name, ref.version)
        versions = api.versions(ref.name)
        if versions:
            latest = max(versions, key=lambda v: int(v.version))
            return api.version(latest.name, latest.version)
    except TrackingServerError as exc:
        if exc.not_found:
            raise ModelNotFoundError(
                f"No model version {ref} in the registry; `strata model list` shows what exists."
            ) from None
        raise
    raise ModelNotFoundError(
        f"No registered model '{ref.name}'; `strata model list` shows what exists."
    )


def alias_version(api: TrackingAPI, name: str, alias: str) -> str | None:
    """The version ``alias`` points at (``None`` when the model has no such alias)."""
    try:
        return api.version_by_alias(name, alias).version
    except TrackingServerError as exc:
        if exc.not_found:
            return None
        raise
