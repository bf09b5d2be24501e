"""A real browser for the portal tests: Debian's Chromium, driven by Playwright for Python.

Playwright downloads no browser here: it starts the system's ``chromium`` (installed from
Debian when missing, as root, like the engine in :mod:`.containers`). axe-core comes from
the kit's ``package-lock.json`` (``npm ci``). Screenshots go to ``.test-artifacts/``; with
``STRATA_UPDATE_SCREENSHOTS=1`` the README's copy in ``docs/images/`` is rewritten too.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from .containers import apt_install
from .projects import KIT_ROOT

AXE = KIT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = KIT_ROOT / ".test-artifacts"
DOCS_IMAGES = KIT_ROOT / "docs" / "images"
#: The rule sets checked: WCAG 2 A and AA (contrast, names, headers) and best practice
#: (landmarks, one main, headings in order).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def chromium() -> str:
    """The system Chromium's path (installed from Debian when missing)."""
    found = shutil.which("chromium")
    if found is None:
        apt_install("chromium")
        found = shutil.which("chromium")
    if found is None:
        pytest.fail("chromium is not on PATH after installing Debian's package")
    return found


@contextmanager
def browser() -> Iterator[Any]:
    """A headless Chromium for the block (closed afterwards, with its processes)."""
    from playwright.sync_api import sync_playwright

    # As root, Chromium refuses to start inside its sandbox.
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium(), args=args)
        try:
            yield launched
        finally:
            launched.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as loaded (the page's context must bypass CSP)."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `npm ci` in the kit")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("tags => axe.run(document, {runOnly: tags})", AXE_TAGS)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"][:200] for n in v["nodes"]]}
        for v in found["violations"]
    ]


def save_screenshot(page: Any, name: str) -> Path:
    """A full-page screenshot kept as a test artifact (and as the docs' copy on request)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("STRATA_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS_IMAGES / name)
    return path
