"""Naming a model version: ``NAME``, ``NAME@ALIAS`` or ``NAME/VERSION``, and finding it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from stratakit.errors import InvalidInputError, ModelNotFoundError

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


def is_not_found(exc: Exception) -> bool:
    """Whether an MLflow error means 'no such model, version or alias'."""
    return "RESOURCE_DOES_NOT_EXIST" in str(getattr(exc, "error_code", "")) or (
        "not found" in str(exc).lower()
    )


def resolve(client: Any, ref: ModelRef) -> Any:
    """The ``ModelVersion`` a reference points at; a clear error when there is none."""
    from mlflow.exceptions import MlflowException

    try:
        if ref.alias:
            return client.get_model_version_by_alias(ref.name, ref.alias)
        if ref.version:
            return client.get_model_version(ref.name, ref.version)
        versions = client.search_model_versions(f"name = '{ref.name}'")
    except MlflowException as exc:
        if is_not_found(exc):
            raise ModelNotFoundError(
                f"No model version {ref} in the registry; `strata model list` shows what exists."
            ) from None
        raise
    if not versions:
        raise ModelNotFoundError(
            f"No registered model '{ref.name}'; `strata model list` shows what exists."
        )
    return max(versions, key=lambda v: int(v.version))


def alias_version(client: Any, name: str, alias: str) -> str | None:
    """The version ``alias`` points at (``None`` when the model has no such alias)."""
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException as exc:
        if is_not_found(exc) or "alias" in str(exc).lower():
            return None
        raise
