"""`copier update` from a real earlier commit of the kit to this one keeps a project's edits.

Slow: the project is generated (tasks included) from the kit as it was at an earlier commit
of this repository, edited and committed, then updated to the kit as it is now; the update
switches it to the vendored kit, and the updated project installs and runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from ..helpers.templates import KIT_ROOT, git, run, tool, user_env

pytestmark = pytest.mark.e2e

#: The kit before the package layout and the vendored kit source (the last landed commit of
#: the round before them): the update crosses both.
EARLIER = "dbfeb04"


def kit_with_history(dest: Path) -> Path:
    """A clone of this repository with the working tree's changes as one more commit."""
    run(["git", "clone", "--quiet", "--no-hardlinks", str(KIT_ROOT), str(dest)], cwd=KIT_ROOT)
    found = run(["git", "cat-file", "-t", f"{EARLIER}^{{commit}}"], cwd=dest, check=False)
    assert found.returncode == 0, (
        f"commit {EARLIER} is not in this clone: the test needs the kit's history (a full clone)"
    )
    git(dest, "rm", "-r", "-q", "--cached", ".")
    listed = run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=KIT_ROOT
    ).stdout
    for relative in filter(None, listed.split("\0")):
        if (KIT_ROOT / relative).is_file():
            (dest / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(KIT_ROOT / relative, dest / relative)
            git(dest, "add", "--force", relative)
    if git(dest, "status", "--porcelain", "--untracked-files=no"):
        git(dest, "commit", "--quiet", "--no-verify", "-m", "the working tree")
    return dest


def test_update_from_an_earlier_kit_commit_keeps_edits_and_vendors_the_kit(
    tmp_path: Path,
) -> None:
    kit = kit_with_history(tmp_path / "stratakit")
    old_kit = tmp_path / "stratakit-earlier"
    git(kit, "worktree", "add", "--quiet", "--detach", str(old_kit), EARLIER)
    project = tmp_path / "churn-forecast"
    copier, uv, env = tool("copier"), tool("uv"), user_env()
    run([copier, "copy", "--trust", "--defaults", "--quiet", "--vcs-ref", EARLIER,
         "--data", "project_name=Churn Forecast", "--data", f"kit_source={old_kit}",
         str(kit), str(project)], cwd=tmp_path, env=env)  # fmt: skip
    assert not (project / "src" / "churn_forecast" / "repro.py").exists()  # not yet

    readme = project / "README.md"  # a section of the team's own, where the kit changed nothing
    notes = "## Team notes\n\nAsk #churn-ml for access.\n\n## Scheduled pipelines\n"
    readme.write_text(readme.read_text().replace("## Scheduled pipelines\n", notes, 1))
    (project / "src" / "churn_forecast" / "extra.py").write_text('"""Team code."""\n')
    params = project / "params.yaml"
    params.write_text(params.read_text().replace("C: 1.0", "C: 0.5"))
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--no-verify", "-m", "hand edits")

    run([copier, "update", "--trust", "--defaults", "--skip-answered", "--quiet",
         "--vcs-ref", "HEAD", "--data", "kit_source=vendored"], cwd=project, env=env)  # fmt: skip
    assert "Ask #churn-ml for access." in readme.read_text()
    assert (project / "src" / "churn_forecast" / "extra.py").is_file()
    assert "C: 0.5" in params.read_text()
    assert (project / "src" / "churn_forecast" / "repro.py").is_file()  # the newer template
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["kit_source"] == "vendored"
    assert sorted(p.name for p in (project / "vendor").iterdir()) == [
        "stratakit-0.1.0-py3-none-any.whl"
    ]
    assert "<<<<<<<" not in readme.read_text()
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--no-verify", "-m", "update the kit")

    # The earlier kit's checkout is gone; the project installs from its vendored wheel, and
    # the updated code runs (the pipeline's smoke test imports every stage).
    git(kit, "worktree", "remove", "--force", str(old_kit))
    run([uv, "lock", "--check"], cwd=project, env=env)
    run([uv, "sync", "--locked"], cwd=project, env=env)
    run([uv, "run", "--locked", "--no-sync", "pytest", "-q", "tests/test_pipeline.py"],
        cwd=project, env=env)  # fmt: skip
