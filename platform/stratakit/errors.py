"""Every error StrataKit raises on purpose, in one place.

Errors a user acts on derive from :class:`StrataError`: each message names what is wrong
and what to do about it, and the CLI prints it as one red line and exits with
:attr:`StrataError.exit_code`, never with a traceback. The serving gateway's errors (last
section) never reach a terminal: the gateway turns them into HTTP answers and log lines.
"""

from __future__ import annotations

__all__ = [
    "FeatureLookupError",
    "FlowNotFoundError",
    "InputError",
    "InvalidInputError",
    "KubernetesToolError",
    "ModelLoadError",
    "ModelNotFoundError",
    "MonitoringError",
    "ProjectNotFoundError",
    "QualityGateError",
    "RegistryReadError",
    "SchedulerAPIError",
    "SettingsError",
    "StackNotRunningError",
    "StackStartError",
    "StateFileError",
    "StrataError",
    "TemplateError",
    "TrackingServerError",
    "UnknownServiceError",
    "WalkthroughError",
]


class StrataError(Exception):
    """An error the user can act on; the message says how."""

    exit_code = 1


# -- the project and its settings -------------------------------------------------------


class ProjectNotFoundError(StrataError):
    """No project (a folder with ``pyproject.toml``) contains the working directory."""


class SettingsError(StrataError):
    """``[tool.strata]`` in ``pyproject.toml`` holds a mistake: the message names key and fix."""


class InvalidInputError(StrataError):
    """A command-line value that is not allowed."""


class TemplateError(StrataError):
    """Generating or updating a project failed; the message says which step and why."""


# -- the stack ----------------------------------------------------------------------------


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


class ContainerEngineError(StrataError):
    """The compose profile needs a Docker engine, the Compose CLI or an image it lacks."""


class KubernetesToolError(StrataError):
    """Rendering the Kubernetes manifests needs ``kubectl`` (its kustomize), and it failed."""


# -- the model registry, pipelines and the demo ------------------------------------------


class ModelNotFoundError(StrataError):
    """The named model, version or alias does not exist in the registry."""


class QualityGateError(StrataError):
    """A version failed the project's quality gate; nothing was changed."""


class RegistryReadError(StrataError):
    """The tracking server did not answer, or answered something unexpected."""


class MonitoringError(StrataError):
    """A drift check cannot run (no reference, nothing logged); exit status 2, as 1 is drift."""

    exit_code = 2


class TrackingServerError(RegistryReadError):
    """The tracking server answered an error; ``code`` is MLflow's ``error_code``."""

    def __init__(self, message: str, code: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.status = status

    @property
    def not_found(self) -> bool:
        """Whether the model, version, alias or run does not exist."""
        return self.code == "RESOURCE_DOES_NOT_EXIST" or (
            self.code == "INVALID_PARAMETER_VALUE" and "not found" in str(self).lower()
        )


class SchedulerAPIError(StrataError):
    """The scheduler did not answer a read, or answered an error."""


class FlowNotFoundError(StrataError):
    """A flow name that the project does not configure, or that is not deployed yet."""


class WalkthroughError(StrataError):
    """A step of the demo's project walk-through failed; the message carries its output."""


# -- the serving gateway (answered as HTTP statuses, never printed by the CLI) ------------


class InputError(Exception):
    """The request is wrong; ``status`` is the 4xx to answer with, ``str()`` says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class ModelLoadError(Exception):
    """A version cannot be served (download, digest, load or warm-up failed)."""


class FeatureLookupError(Exception):
    """The model's feature references cannot be served from this feature repository."""
