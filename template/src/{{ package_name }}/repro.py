"""``dvc repro`` with the stages run in this process: ``python -m <package>.repro [STAGE…]``.

DVC stays the judge of what must run (changed dependencies, parameters, code) and keeps
``dvc.lock``, the cache and the run cache exactly as ``dvc repro`` does. Only the way a
stage's command runs changes: a command of ``dvc.yaml`` of the form ``python -m
<package>.pipeline STAGE`` calls that stage's function here instead of starting a new
Python, so pandas, Feast and MLflow are imported once for the whole pipeline rather than
once per stage. Any other command runs as DVC runs it. ``dvc repro`` itself still works:
it gives the same results, only slower.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .settings import PROJECT_ROOT, ConfigurationError, load_settings

#: The module every stage command of ``dvc.yaml`` runs.
PIPELINE_MODULE = f"{__package__}.pipeline"


def stage_of(command: str) -> str | None:
    """The stage a ``python -m <package>.pipeline STAGE`` command runs (else ``None``)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if len(words) != 4 or not Path(words[0]).name.startswith("python"):
        return None
    return words[3] if words[1:3] == ["-m", PIPELINE_MODULE] else None


def _in_process(original: Callable[..., Any]) -> Callable[..., Any]:
    """DVC's command runner, with the pipeline's own commands run as function calls."""

    def run(executable: Any, cmd: str, **kwargs: Any) -> Any:
        from dvc.stage.exceptions import StageCmdFailedError

        from . import pipeline, prepare

        name = stage_of(cmd)
        if name not in pipeline.STAGES:
            return original(executable, cmd, **kwargs)
        try:
            settings = load_settings(Path(kwargs.get("cwd") or PROJECT_ROOT), kwargs.get("env"))
            print(pipeline.STAGES[name](settings), flush=True)
        except (ConfigurationError, prepare.DataValidationError, FileNotFoundError) as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            raise StageCmdFailedError(cmd, 1) from exc
        return None

    return run


@contextlib.contextmanager
def stages_in_process() -> Iterator[None]:
    """Run the pipeline's stage commands in this process while the block lasts.

    The hook is DVC's function that starts a stage's command; should a DVC release move it,
    the stages simply run as separate processes again.
    """
    import dvc.stage.run

    original = getattr(dvc.stage.run, "_run", None)
    if original is None:
        yield
        return
    dvc.stage.run._run = _in_process(original)
    try:
        yield
    finally:
        dvc.stage.run._run = original


def reproduce(
    targets: Sequence[str] = (), *, single_item: bool = False, root: Path = PROJECT_ROOT
) -> list[str]:
    """``dvc repro [TARGETS]`` with in-process stages; returns the stages that ran."""
    from dvc.repo import Repo

    # DVC reads targets (and its default, dvc.yaml) relative to the working directory.
    with contextlib.chdir(root), Repo(str(root)) as repo, stages_in_process():
        ran = repo.reproduce(targets=list(targets) or None, single_item=single_item)
    return [stage.addressing for stage in ran]


def main(argv: list[str] | None = None) -> int:
    """Reproduce the pipeline (or the named stages); then, optionally, materialize."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("stages", nargs="*", help="stages to reproduce (default: all)")
    parser.add_argument(
        "--materialize", action="store_true", help="then bring the online store up to date"
    )
    args = parser.parse_args(argv)
    from dvc.exceptions import DvcException

    try:
        ran = reproduce(args.stages)
    except DvcException as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"reproduced: {', '.join(ran) or 'nothing (every stage is up to date)'}")
    if args.materialize:
        from . import pipeline

        print(pipeline.STAGES["materialize"](load_settings()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
