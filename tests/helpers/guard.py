"""Which test is running, so helpers that start servers refuse to run for an unmarked test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

_current: dict[str, object] = {"nodeid": "", "e2e": False}


@contextmanager
def running(nodeid: str, *, e2e: bool) -> Iterator[None]:
    """Record the running test and whether it carries the ``e2e`` marker."""
    before = dict(_current)
    _current.update(nodeid=nodeid, e2e=e2e)
    try:
        yield
    finally:
        _current.update(before)


def require_e2e(what: str) -> None:
    """Fail the running test unless it is marked ``e2e`` (it is about to start servers)."""
    if not _current["e2e"]:
        pytest.fail(
            f"{_current['nodeid']} {what} but is not marked e2e; add "
            "`pytestmark = pytest.mark.e2e` to its module",
            pytrace=False,
        )


def installed() -> frozenset[str]:
    """The distributions installed in the environment the tests run in, with versions."""
    from importlib.metadata import distributions

    return frozenset(f"{d.metadata['Name']}=={d.version}" for d in distributions())


def environment_changes(before: frozenset[str]) -> str:
    """What a test installed into or removed from the tests' own environment ("" if nothing):
    a generated project's ``uv sync`` that inherited the session's ``UV_PROJECT_ENVIRONMENT``
    would swap the kit's packages for the project's, and later tests fail far from the cause."""
    after = installed()
    if after == before:
        return ""
    added, removed = sorted(after - before), sorted(before - after)
    return (
        "a test changed the environment the tests run in (a command given the session's "
        "VIRTUAL_ENV/UV_PROJECT_ENVIRONMENT/UV_PYTHON? use helpers.templates.user_env): "
        f"added {', '.join(added) or 'nothing'}; removed {', '.join(removed) or 'nothing'}"
    )
