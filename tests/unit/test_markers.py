"""Slow tests carry the ``e2e`` marker, so the quick ``unit`` session never starts a server.

Two guards: every module of ``tests/e2e`` and every template test that runs a generated
project's tasks declares the marker (read from the source here), and the helper that
starts a stack refuses to run for a test without it (checked live here).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from stratakit.project import Project

from ..helpers.projects import KIT_ROOT
from ..helpers.stacks import launch

TESTS = KIT_ROOT / "tests"
#: Calls that mean a template test runs real tools or servers rather than rendering.
SLOW_CALLS = {"generate", "launch", "start_stack", "in_project"}


def declares_e2e(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            return "e2e" in ast.unparse(node.value)
    return False


def calls(tree: ast.Module) -> set[str]:
    return {
        node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    }


@pytest.mark.parametrize("path", sorted((TESTS / "e2e").glob("test_*.py")), ids=lambda p: p.name)
def test_every_end_to_end_module_is_marked(path: Path) -> None:
    assert declares_e2e(ast.parse(path.read_text())), f"{path} lacks pytestmark = pytest.mark.e2e"


@pytest.mark.parametrize(
    "path", sorted((TESTS / "template").glob("test_*.py")), ids=lambda p: p.name
)
def test_template_modules_that_run_projects_are_marked(path: Path) -> None:
    tree = ast.parse(path.read_text())
    slow = calls(tree) & SLOW_CALLS
    assert not slow or declares_e2e(tree), f"{path} calls {sorted(slow)} but is not marked e2e"


def test_unit_tests_do_not_use_the_shared_stack() -> None:
    for path in sorted((TESTS / "unit").rglob("test_*.py")):
        tree = ast.parse(path.read_text())
        params = {
            arg.arg
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef)
            for arg in node.args.args
        }
        assert not params & {"stack", "contract_env"}, f"{path} asks for a running stack"


def test_an_unmarked_test_cannot_start_a_stack(project: Project) -> None:
    with pytest.raises(pytest.fail.Exception, match="not marked e2e"):
        launch(project)
    assert not project.state_dir.exists()
