"""``[tool.strata.stack]``: which profile runs the stack, and the images the containers use."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from stratakit.errors import SettingsError
from stratakit.settings import _validate

Profile = Literal["embedded", "compose"]
PROFILES: tuple[Profile, ...] = ("embedded", "compose")
#: The images the compose profile runs, by role; ``images`` in the table overrides them.
IMAGE_ROLES = ("platform", "object-store", "postgres", "redis", "prometheus")
_LOCATION = _validate.where("stack")
#: ``[registry/]name[:tag][@sha256:digest]``, as ``docker`` accepts it.
_IMAGE = re.compile(r"[a-z0-9][a-z0-9._/:-]*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?")


@dataclass(frozen=True)
class StackSettings:
    """The stack's profile (``embedded``: local processes; ``compose``: containers)."""

    profile: Profile = "embedded"
    images: Mapping[str, str] = field(default_factory=dict)
    """Image references by role (platform, object-store, postgres, redis, prometheus)
    replacing the defaults (the kit's builds; Prometheus's upstream image)."""


def parse_stack(raw: object) -> StackSettings:
    """Validate ``[tool.strata.stack]``."""
    entries: Mapping[str, Any] = _validate.table(raw, _LOCATION)
    _validate.known_keys(entries, ("profile", "images"), _LOCATION)
    profile = entries.get("profile", "embedded")
    if profile not in PROFILES:
        raise SettingsError(
            f"pyproject.toml {_LOCATION}.profile = {profile!r} is not a profile; "
            f"use one of: {', '.join(PROFILES)}."
        )
    location = _validate.where("stack", "images")
    images = _validate.table(entries.get("images", {}), location)
    _validate.known_keys(images, IMAGE_ROLES, location)
    for role, reference in images.items():
        if not isinstance(reference, str) or not _IMAGE.fullmatch(reference):
            raise SettingsError(
                f"pyproject.toml {location}.{role} = {reference!r} is not an image reference; "
                "write it as docker does, e.g. 'registry.example.com/team/platform:1.2'."
            )
    return StackSettings(profile=profile, images=dict(images))
