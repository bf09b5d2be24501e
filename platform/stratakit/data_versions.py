"""What DVC records about a project's data: the md5 of every tracked output and input.

Read from the ``*.dvc`` files and ``dvc.lock`` (never by running DVC), so lineage checks
and ``strata data push`` cost a directory walk, not a DVC start.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

#: Folders never searched for ``.dvc`` files (caches, environments, stack state).
_SKIPPED = {".git", ".dvc", ".strata", ".venv", "node_modules", "__pycache__", ".nox"}


@dataclass(frozen=True)
class DvcHashes:
    """Path (relative, POSIX) → md5; directories carry DVC's ``.dir`` hash."""

    outputs: dict[str, str]
    """What DVC tracks: ``dvc add``-ed data and the outputs of ``dvc.yaml`` stages."""
    inputs: dict[str, str]
    """Dependencies of ``dvc.yaml`` stages as ``dvc.lock`` last saw them."""

    def current(self, path: str) -> str | None:
        """The hash DVC records for ``path`` now, as an output or else as an input."""
        return self.outputs.get(path) or self.inputs.get(path)


def _dvc_files(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED)
        for name in sorted(files):
            if name.endswith(".dvc"):
                yield Path(folder) / name


def _entries(items: Any) -> Iterator[tuple[str, str]]:
    for item in items or []:
        if isinstance(item, dict) and "path" in item and "md5" in item:
            yield str(item["path"]), str(item["md5"])


def read_hashes(root: Path) -> DvcHashes:
    """Every hash the project's ``*.dvc`` files and ``dvc.lock`` record."""
    outputs: dict[str, str] = {}
    inputs: dict[str, str] = {}
    for dvc_file in _dvc_files(root):
        meta = yaml.safe_load(dvc_file.read_text(encoding="utf-8")) or {}
        for path, md5 in _entries(meta.get("outs")):
            outputs[(dvc_file.parent / path).relative_to(root).as_posix()] = md5
    lock = root / "dvc.lock"
    if lock.is_file():
        stages = (yaml.safe_load(lock.read_text(encoding="utf-8")) or {}).get("stages", {})
        for stage in stages.values():
            outputs.update(_entries(stage.get("outs")))
            for path, md5 in _entries(stage.get("deps")):
                inputs.setdefault(path, md5)
    return DvcHashes(outputs=dict(sorted(outputs.items())), inputs=dict(sorted(inputs.items())))
