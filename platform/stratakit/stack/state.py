"""The stack's persistent choices for one project: ports, bucket and generated credentials.

Stored as JSON in ``.strata/stack.json`` with mode 0600, written atomically.
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from stratakit.errors import StateFileError
from stratakit.stack.files import write_atomic

STATE_VERSION = 1
_KEY_ALPHABET = string.ascii_uppercase + string.digits


@dataclass
class StackState:
    """What a project's stack keeps between runs."""

    project_id: str
    bucket: str
    access_key: str
    secret_key: str
    ports: dict[str, int] = field(default_factory=dict)
    version: int = STATE_VERSION
    profile: str = "embedded"
    """The profile the stack last ran with (``down``, ``status`` and ``logs`` follow it)."""
    passwords: dict[str, str] = field(default_factory=dict)
    """Generated passwords of the compose profile's databases, by service."""

    def add_passwords(self, *services: str) -> bool:
        """Generate a password for each of ``services`` that has none; whether any was new."""
        missing = [name for name in services if name not in self.passwords]
        for name in missing:
            self.passwords[name] = secrets.token_urlsafe(24)
        return bool(missing)

    def password(self, service: str) -> str:
        """The generated password of ``service``."""
        try:
            return self.passwords[service]
        except KeyError:
            raise StateFileError(
                f"No password for {service} in the stack's state yet; run "
                "`strata stack up --profile compose` to generate it."
            ) from None

    def to_json(self) -> str:
        """Serialise for :func:`save_state`."""
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


def new_state(slug: str, bucket: str | None = None) -> StackState:
    """Fresh per-project identity and credentials (never a well-known default key).

    The bucket is ``bucket`` when the project names one, else derived from the slug.
    """
    project_id = secrets.token_hex(4)
    return StackState(
        project_id=project_id,
        bucket=bucket or f"{slug}-{project_id}"[:63],
        access_key="STRATA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(14)),
        secret_key=secrets.token_urlsafe(30),
    )


def _recovery_hint(path: Path) -> str:
    return (
        f"Restore {path} from a backup, or move it aside and run `strata stack up` to "
        "create new credentials (stored objects stay on disk under .strata/data)."
    )


def _parse(path: Path, raw: dict[str, Any]) -> StackState:
    try:
        ports = {str(k): int(v) for k, v in raw["ports"].items()}
        state = StackState(
            project_id=str(raw["project_id"]),
            bucket=str(raw["bucket"]),
            access_key=str(raw["access_key"]),
            secret_key=str(raw["secret_key"]),
            ports=ports,
            version=int(raw.get("version", STATE_VERSION)),
            profile=str(raw.get("profile", "embedded")),
            passwords={str(k): str(v) for k, v in raw.get("passwords", {}).items()},
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StateFileError(
            f"{path} is damaged (missing or invalid {exc}). {_recovery_hint(path)}"
        ) from exc
    if state.version > STATE_VERSION:
        raise StateFileError(
            f"{path} was written by a newer StrataKit (format {state.version}); upgrade stratakit."
        )
    return state


def load_state(path: Path) -> StackState | None:
    """Read the state file; ``None`` when there is none yet.

    Raises:
        StateFileError: the file exists but cannot be parsed; the message says how to recover.

    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateFileError(
            f"{path} cannot be read ({exc.strerror}). {_recovery_hint(path)}"
        ) from exc
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateFileError(
            f"{path} is damaged (not valid JSON: {exc.msg} at line {exc.lineno}). "
            f"{_recovery_hint(path)}"
        ) from exc
    if not isinstance(raw, dict):
        raise StateFileError(f"{path} is damaged (not a JSON object). {_recovery_hint(path)}")
    return _parse(path, raw)


def save_state(path: Path, state: StackState) -> None:
    """Write the state file atomically with mode 0600."""
    write_atomic(path, state.to_json())
