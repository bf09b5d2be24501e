"""StrataKit: a standardized ML development environment and its local platform stack.

The public API is small and stable: find a project and read its settings, bring its stack
up and down, read its environment contract, generate or update a project. Everything else
is reached through its sub-package (``stack``, ``registry``, ``flows``, ``features``,
``gateway``, ``demo``, ``cli``), whose docstring says what it owns and what it may import.
Names are loaded on first use, so ``import stratakit`` costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name → the module defining it.
_PUBLIC = {
    "StrataError": "stratakit.errors",
    "Project": "stratakit.project",
    "find_project": "stratakit.project",
    "StrataSettings": "stratakit.settings",
    "start_stack": "stratakit.stack.lifecycle",
    "stop_stack": "stratakit.stack.lifecycle",
    "stack_status": "stratakit.stack.lifecycle",
    "project_contract": "stratakit.stack.context",
    "new_project": "stratakit.project_template",
    "update_project": "stratakit.project_template",
}

__all__ = [
    "Project",
    "StrataError",
    "StrataSettings",
    "__version__",
    "find_project",
    "new_project",
    "project_contract",
    "stack_status",
    "start_stack",
    "stop_stack",
    "update_project",
]

if TYPE_CHECKING:
    from stratakit.errors import StrataError
    from stratakit.project import Project, find_project
    from stratakit.project_template import new_project, update_project
    from stratakit.settings import StrataSettings
    from stratakit.stack.context import project_contract
    from stratakit.stack.lifecycle import stack_status, start_stack, stop_stack


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'stratakit' has no attribute {name!r}")
