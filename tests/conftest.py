"""Fixtures every test folder may use, the server guard, and the suite's time report.

Helpers live in ``tests/helpers``. A test that starts servers must carry the ``e2e``
marker: the guard records the running test's markers, and the helpers that start a stack
or generate a project refuse to run for an unmarked test.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Generator
from pathlib import Path

import pytest

from stratakit.project import Project

from .helpers import guard
from .helpers.projects import make_project

_STARTED = time.monotonic()
#: The longest modules, longest first: run in parallel, the suite ends when its slowest
#: module does, so those start first (measured on a 2-core machine; the rest keep their order).
LONGEST_FIRST = (
    "tests/template/test_generated.py",
    "tests/e2e/test_compose_profile.py",
    "tests/template/test_generated_matrix.py",
    "tests/template/test_update_from_release.py",
    "tests/e2e/test_cli_stack.py",
    "tests/template/test_devcontainer_up.py",
    "tests/e2e/test_model_registry.py",
    "tests/e2e/test_lifecycle.py",
    "tests/e2e/test_gateway.py",
    "tests/e2e/test_flows.py",
)
_MODULE_SECONDS: dict[str, float] = defaultdict(float)
_INSTALLED = guard.installed()


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "proj")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    # A hook, not a fixture: session-scoped fixtures (a shared stack) start before any
    # function-scoped fixture, and must already see which test asked for them.
    with guard.running(item.nodeid, e2e=item.get_closest_marker("e2e") is not None):
        return (yield)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {module: index for index, module in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _MODULE_SECONDS[report.nodeid.split("::")[0]] += report.duration


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    changed = guard.environment_changes(_INSTALLED)
    if changed:
        session.config.get_terminal_writer().line(f"ERROR: {changed}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    wall = time.monotonic() - _STARTED
    slowest = sorted(_MODULE_SECONDS.items(), key=lambda item: -item[1])[:12]
    terminalreporter.section("time per test module (setup + call + teardown)")
    for module, seconds in slowest:
        terminalreporter.write_line(f"{seconds:7.1f} s  {module}")
    terminalreporter.write_line(f"suite wall time: {wall:.0f} s ({wall / 60:.1f} min)")
