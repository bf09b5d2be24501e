"""The project's ``[tool.strata]`` table, parsed once into typed, frozen settings.

Owns every key of the table: its type, its default and its validation, one module per
section (``serving``, ``features``, ``quality_gate``, ``flows`` for queues and flows,
``stack`` for the profile, ``monitoring`` for drift checks). Every
mistake is one :class:`~stratakit.errors.SettingsError` naming the key, the bad value and
the fix; an unknown key is reported with the nearest valid name. A new section is a new
module plus one entry in :data:`SECTIONS`.

May import: ``stratakit.errors`` only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stratakit.errors import FlowNotFoundError, SettingsError
from stratakit.settings import _validate
from stratakit.settings.features import FeaturesSettings, parse_features
from stratakit.settings.flows import (
    DATA_PUSHED_EVENT,
    DEFAULT_QUEUE,
    DRIFT_DETECTED_EVENT,
    FlowSettings,
    QueueSettings,
    parse_flows,
    parse_queues,
)
from stratakit.settings.monitoring import MonitoringSettings, parse_monitoring
from stratakit.settings.quality_gate import Threshold, parse_quality_gate
from stratakit.settings.serving import DEFAULT_ALIAS, ServingSettings, parse_serving
from stratakit.settings.stack import PROFILES, Profile, StackSettings, parse_stack

__all__ = [
    "DATA_PUSHED_EVENT",
    "DEFAULT_ALIAS",
    "DEFAULT_QUEUE",
    "DRIFT_DETECTED_EVENT",
    "PROFILES",
    "FeaturesSettings",
    "FlowSettings",
    "MonitoringSettings",
    "Profile",
    "QueueSettings",
    "ServingSettings",
    "StackSettings",
    "StrataSettings",
    "Threshold",
    "parse_settings",
]

_BUCKET = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")


@dataclass(frozen=True)
class StrataSettings:
    """Everything ``[tool.strata]`` declares, with the defaults of what it leaves out."""

    bucket: str | None = None
    """The project's bucket; ``None`` lets the stack derive one from the project name."""
    model_name: str | None = None
    owner: str | None = None
    serving: ServingSettings = field(default_factory=ServingSettings)
    features: FeaturesSettings = field(default_factory=FeaturesSettings)
    quality_gate: tuple[Threshold, ...] = ()
    queues: Mapping[str, QueueSettings] = field(default_factory=dict)
    flows: Mapping[str, FlowSettings] = field(default_factory=dict)
    stack: StackSettings = field(default_factory=StackSettings)
    monitoring: MonitoringSettings = field(default_factory=MonitoringSettings)

    def flow(self, name: str) -> FlowSettings:
        """The flow called ``name``, or an error listing the configured ones."""
        if name not in self.flows:
            known = ", ".join(self.flows) or "none"
            raise FlowNotFoundError(
                f"No flow '{name}' in pyproject.toml [tool.strata.flows] (configured: {known}); "
                f"add a [tool.strata.flows.{name}] table or use one of those names."
            )
        return self.flows[name]


def _bucket(value: object) -> str:
    """A bucket name S3 accepts, so the DVC remote ``s3://BUCKET/dvc`` can be committed."""
    if not isinstance(value, str) or not _BUCKET.fullmatch(value):
        raise SettingsError(
            f"pyproject.toml [tool.strata].bucket = {value!r} is not a valid bucket name; "
            "use 3-63 lowercase letters, digits and dashes, starting and ending with a "
            "letter or digit."
        )
    return value


def _string(key: str) -> Callable[[object], str]:
    return lambda value: _validate.text(value, f"{_validate.where()}.{key}")


#: Each key of ``[tool.strata]`` (but the flows, which need the queues) → its parser.
SECTIONS: Mapping[str, Callable[[object], Any]] = {
    "bucket": _bucket,
    "model_name": _string("model_name"),
    "owner": _string("owner"),
    "serving": parse_serving,
    "features": parse_features,
    "quality_gate": parse_quality_gate,
    "queues": parse_queues,
    "stack": parse_stack,
    "monitoring": parse_monitoring,
}


def parse_settings(table: object, root: Path) -> StrataSettings:
    """Validate a ``[tool.strata]`` table; flow entrypoints are looked up under ``root``."""
    entries = _validate.table(table, _validate.where())
    _validate.known_keys(entries, [*SECTIONS, "flows"], _validate.where())
    parsed = {key: SECTIONS[key](value) for key, value in entries.items() if key in SECTIONS}
    flows = parse_flows(entries.get("flows", {}), parsed.get("queues", {}), root)
    return StrataSettings(**parsed, flows=flows)
