"""One result type for every check the kit reports: ``strata doctor`` and ``strata model verify``.

Only the CLI prints them, with one colour per severity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: ``fail``: must be fixed; ``warn``: something is off or unavailable; ``info``: for the record.
Severity = Literal["ok", "info", "warn", "fail"]


@dataclass(frozen=True)
class CheckResult:
    """One line of a report: what was checked, how it went, the detail, and the fix if any."""

    name: str
    severity: Severity
    detail: str
    fix: str = ""
