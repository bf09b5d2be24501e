"""StrataKit: a standardized ML development environment and its local platform stack."""

__version__ = "0.1.0"
