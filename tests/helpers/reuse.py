"""Running one module's tests again in another (the same suite against another profile)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from types import ModuleType
from typing import Any


def suites_of(
    *modules: ModuleType, leave_out: Collection[str] = ()
) -> dict[str, Callable[..., Any]]:
    """Every test function of ``modules`` but those named in ``leave_out``, each module's in
    the order of its file (tests may build on the ones before them), for
    ``globals().update(...)`` of the module that runs them again: pytest collects a
    module's tests in the order its namespace has them."""
    found: dict[str, Callable[..., Any]] = {}
    for module in modules:
        tests = [
            value
            for name, value in vars(module).items()
            if name.startswith("test_")
            and name not in leave_out
            and callable(value)
            and value.__module__ == module.__name__
        ]
        for test in sorted(tests, key=lambda test: test.__code__.co_firstlineno):
            found[test.__name__] = test
    return found
