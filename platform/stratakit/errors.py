"""The one family of errors StrataKit raises on purpose.

Every message names what is wrong and what to do about it; the CLI prints it as one red
line and exits with :attr:`StrataError.exit_code`, never with a traceback.
"""

from __future__ import annotations


class StrataError(Exception):
    """An error the user can act on; the message says how."""

    exit_code = 1


class ProjectNotFoundError(StrataError):
    """No project (a folder with ``pyproject.toml``) contains the working directory."""


class StateFileError(StrataError):
    """A file under ``.strata/`` is damaged or unreadable."""


class UnknownServiceError(StrataError):
    """A service name that the stack does not define."""


class StackNotRunningError(StrataError):
    """An operation needs the stack up, and it is down."""


class StackStartError(StrataError):
    """A service did not become healthy; carries the tail of its log."""

    def __init__(self, message: str, service: str, log_tail: str = "") -> None:
        super().__init__(message)
        self.service = service
        self.log_tail = log_tail


class InvalidInputError(StrataError):
    """A command-line value that is not allowed."""


class FlowsConfigError(StrataError):
    """``[tool.strata.queues]`` or ``[tool.strata.flows]`` in ``pyproject.toml`` is invalid."""


class FlowNotFoundError(StrataError):
    """A flow name that the project does not configure, or that is not deployed yet."""
