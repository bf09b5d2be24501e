"""The project template: ``strata new`` and ``strata update`` as thin wrappers over copier.

Both run the real ``copier`` with the template's own ``copier.yml``, so a project made by
``strata new`` is the same as one made by ``copier copy --trust``, and either can be
brought up to date by ``strata update`` or ``copier update --trust``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from stratakit.errors import InvalidInputError, TemplateError

#: The kit's source checkout (``copier.yml`` sits next to ``platform/``).
_CHECKOUT = Path(__file__).resolve().parents[2]
#: Where a wheel install carries the template (see ``[tool.hatch...force-include]``).
_BUNDLED = Path(__file__).resolve().parent / "template_src"


@dataclass(frozen=True)
class TemplateSource:
    """Where the template comes from, and how generated projects install the kit."""

    path: Path
    kit_source: str

    @classmethod
    def locate(cls) -> TemplateSource:
        """The running kit's template: its source checkout, else the copy in the wheel.

        A project made from a checkout carries the kit as a wheel built from it (under
        ``vendor/``), so it installs anywhere the project goes; one made from an installed
        wheel installs the kit from the package index, pinned to the same version.
        """
        if (_CHECKOUT / "copier.yml").is_file() and (_CHECKOUT / "template").is_dir():
            return cls(path=_CHECKOUT, kit_source="vendored")
        if (_BUNDLED / "copier.yml").is_file():
            return cls(path=_BUNDLED, kit_source="index")
        raise TemplateError(
            "This installation of stratakit carries no template; reinstall it, or run "
            "`copier copy --trust <kit repository> DEST`."
        )


@cache
def questions(template: Path) -> dict[str, dict[str, Any]]:
    """The public questions of ``copier.yml`` (hidden, computed ones left out)."""
    raw = yaml.safe_load((template / "copier.yml").read_text(encoding="utf-8")) or {}
    return {
        name: spec
        for name, spec in raw.items()
        if not name.startswith("_") and isinstance(spec, dict) and spec.get("when") is not False
    }


def parse_data(items: Iterable[str], template: Path) -> dict[str, str]:
    """Turn ``key=value`` options into copier data, refusing unknown keys by name."""
    known = questions(template)
    data: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidInputError(f"--data {item!r} is not KEY=VALUE, e.g. --data tracking=both")
        if key not in known:
            raise InvalidInputError(
                f"--data {key}: no such question; the questions are {', '.join(sorted(known))}."
            )
        data[key] = value
    return data


@contextmanager
def _copier_errors() -> Iterator[None]:
    """Turn copier's exceptions into the kit's one-line errors."""
    from copier.errors import CopierError, DirtyLocalWarning, TaskError

    try:
        with warnings.catch_warnings():
            # Using the checkout's uncommitted template is the point of a kit checkout.
            warnings.simplefilter("ignore", DirtyLocalWarning)
            yield
    except TaskError as exc:
        raise TemplateError(
            f"A generation step failed (exit {exc.returncode}): {exc.cmd}. "
            "Its output is above; fix the cause and run the command again."
        ) from exc
    except CopierError as exc:
        raise TemplateError(f"copier: {exc}") from exc
    except ValueError as exc:  # copier reports invalid answers as ValueError
        raise InvalidInputError(str(exc)) from exc
    except OSError as exc:
        raise TemplateError(
            f"{exc.filename or 'a file'}: {exc.strerror}; choose a folder you can write to."
        ) from exc


def new_project(
    dest: Path,
    data: Mapping[str, str],
    *,
    defaults: bool,
    source: TemplateSource | None = None,
    vcs_ref: str | None = None,
    quiet: bool = False,
) -> Path:
    """Generate a project in ``dest`` (which must not exist or be empty); returns its path.

    On any failure copier removes what it created, so no half-made project is left.
    """
    import copier

    source = source or TemplateSource.locate()
    dest = dest.expanduser().resolve()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise InvalidInputError(f"{dest} already exists and is not empty; choose a new folder.")
    answers = {"kit_source": source.kit_source, **data}
    with _copier_errors():
        copier.run_copy(
            str(source.path),
            dest,
            data=answers,
            defaults=defaults,
            unsafe=True,
            vcs_ref=vcs_ref or ("HEAD" if source.path == _CHECKOUT else None),
            quiet=quiet,
        )
    return dest


def update_project(
    project_root: Path,
    data: Mapping[str, str],
    *,
    vcs_ref: str | None = None,
    quiet: bool = False,
    skip_tasks: bool = False,
) -> None:
    """Bring a generated project to the template's latest version, keeping local edits.

    Previous answers are reused; ``data`` changes some of them. Copier requires a clean
    git work tree, so nothing uncommitted can be lost; conflicts are left inline.
    """
    import copier

    if not (project_root / ".copier-answers.yml").is_file():
        raise InvalidInputError(
            f"{project_root} was not generated from the template (no .copier-answers.yml)."
        )
    with _copier_errors():
        copier.run_update(
            project_root,
            data=dict(data),
            defaults=True,
            overwrite=True,
            skip_answered=True,
            unsafe=True,
            vcs_ref=vcs_ref,
            quiet=quiet,
            skip_tasks=skip_tasks,
        )
