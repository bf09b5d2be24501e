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
