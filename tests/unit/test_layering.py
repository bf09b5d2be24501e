"""The package's layering: each sub-package imports only the layers below it, with no cycles.

Imports are read from the source (``import`` statements outside ``TYPE_CHECKING`` blocks, at
any depth), so a lazy import inside a function counts as much as a top-level one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..helpers.projects import KIT_ROOT

PACKAGE = KIT_ROOT / "platform" / "stratakit"

#: Each part of the package → the parts it may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "contract": set(),
    "http": set(),
    "checks": set(),
    "settings": {"errors"},
    "project": {"errors", "settings"},
    "data_versions": set(),
    "project_template": {"errors"},
    "stack": {"http", "errors", "contract", "settings", "project"},
    "registry": {
        "http",
        "errors",
        "contract",
        "settings",
        "project",
        "checks",
        "data_versions",
        "stack",
    },
    "features": {"errors", "contract", "registry"},
    "flows": {"http", "errors", "contract", "settings", "project", "data_versions", "stack"},
    "gateway": {"errors", "contract", "settings", "registry", "__init__"},
    "monitor": {"http", "errors", "contract", "settings", "project", "registry", "stack"},
    "doctor": {"errors", "checks", "project", "stack"},
    "demo": {"errors", "contract", "project", "project_template", "stack"},
    "portal": {
        "http",
        "errors",
        "contract",
        "settings",
        "project",
        "stack",
        "registry",
        "features",
        "flows",
        "monitor",
        "__init__",
    },
    "cli": {"*"},
    "__init__": {"*"},
}
#: What ``registry`` and ``features`` may use of the stack and the registry: no more.
NARROW = {
    ("registry", "stack"): {"stratakit.stack.context", "stratakit.stack.health"},
    ("features", "registry"): {"stratakit.registry.lineage"},
    ("gateway", "registry"): {"stratakit.registry.lineage", "stratakit.registry.tracking_api"},
    ("gateway", "__init__"): {"stratakit"},
    ("monitor", "stack"): {"stratakit.stack.context"},
    ("portal", "__init__"): {"stratakit"},
}


def part_of(module: str) -> str:
    """``stratakit.stack.ports`` → ``stack``; ``stratakit`` → ``__init__``."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(tree: ast.AST) -> Iterator[str]:
    """Every ``stratakit`` module imported at run time (``TYPE_CHECKING`` blocks skipped)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (name for child in node.orelse for name in runtime_imports(child))
            continue
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.split(".")[0] == "stratakit")
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.level == 0
            and node.module.split(".")[0] == "stratakit"
        ):
            yield node.module
        yield from runtime_imports(node)


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(relative.parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[name] = set(runtime_imports(tree))
    return graph


@pytest.mark.parametrize(("module", "path"), list(modules()), ids=lambda v: str(v))
def test_each_module_imports_only_the_layers_below_it(module: str, path: Path) -> None:
    mine = part_of(module)
    allowed = ALLOWED[mine]
    for imported in set(runtime_imports(ast.parse(path.read_text(encoding="utf-8")))):
        theirs = part_of(imported)
        if theirs == mine or "*" in allowed:
            continue
        assert theirs in allowed, f"{module} imports {imported}: {mine} may not import {theirs}"
        narrow = NARROW.get((mine, theirs))
        if narrow is not None:
            assert any(imported == n or imported.startswith(n + ".") for n in narrow), (
                f"{module} imports {imported}; {mine} may use only {sorted(narrow)} of {theirs}"
            )


def test_nothing_imports_the_cli() -> None:
    for module, imports in import_graph().items():
        if part_of(module) != "cli":
            assert not any(part_of(i) == "cli" for i in imports), module


def test_the_parts_of_the_package_form_no_cycle() -> None:
    edges: dict[str, set[str]] = {}
    for module, imports in import_graph().items():
        edges.setdefault(part_of(module), set()).update(
            part_of(i) for i in imports if part_of(i) != part_of(module)
        )
    edges.pop("__init__", None)
    for targets in edges.values():
        targets.discard("__init__")

    def visit(node: str, trail: tuple[str, ...]) -> None:
        assert node not in trail, f"import cycle: {' → '.join((*trail, node))}"
        for target in sorted(edges.get(node, ())):
            visit(target, (*trail, node))

    for start in sorted(edges):
        visit(start, ())


def test_every_sub_package_says_what_it_owns_and_may_import() -> None:
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "May import" in doc or "may import" in doc.lower(), init
