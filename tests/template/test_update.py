"""`copier update` brings a template change into a project and keeps the user's edits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from stratakit.errors import TemplateError
from stratakit.project_template import update_project

from ..helpers.templates import KIT_ROOT, run

GIT = ["git", "-c", "user.name=Kit Test", "-c", "user.email=kit@example.com"]


def commit_all(repo: Path, message: str) -> None:
    run([*GIT, "add", "--all"], cwd=repo)
    run([*GIT, "commit", "--quiet", "--no-verify", "-m", message], cwd=repo)


def scratch_template(folder: Path) -> Path:
    """A git repository holding a copy of the kit's template, tagged v1."""
    folder.mkdir()
    shutil.copy(KIT_ROOT / "copier.yml", folder / "copier.yml")
    shutil.copytree(KIT_ROOT / "template", folder / "template")
    shutil.copytree(KIT_ROOT / "devcontainer", folder / "devcontainer")
    run(["git", "init", "--quiet", "--initial-branch=main"], cwd=folder)
    commit_all(folder, "template v1")
    run([*GIT, "tag", "v1"], cwd=folder)
    return folder


def template_and_project(tmp_path: Path, data: dict[str, str]) -> tuple[Path, Path]:
    """The scratch template (v1) and a project generated from it, committed."""
    import copier

    template = scratch_template(tmp_path / "template-repo")
    project = tmp_path / "project"
    copier.run_copy(
        str(template), project, data=data, defaults=True, unsafe=True, skip_tasks=True, quiet=True
    )
    run(["git", "init", "--quiet", "--initial-branch=main"], cwd=project)
    commit_all(project, "generated")
    return template, project


def test_update_brings_template_changes_and_keeps_hand_edits(tmp_path: Path) -> None:
    answers = {"project_name": "Churn Forecast", "tracking": "both"}
    template, project = template_and_project(tmp_path, answers)

    # The user edits a generated file and adds one of their own.
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\n## Team notes\n\nAsk #churn-ml for access.\n")
    (project / "src" / "churn_forecast" / "extra.py").write_text('"""Team code."""\n')
    commit_all(project, "hand edits")

    # The template gains a parameter and is tagged v2.
    params = template / "template" / "params.yaml.jinja"
    params.write_text(params.read_text() + "\nevaluate:\n  threshold: 0.5\n")
    commit_all(template, "template v2: evaluation threshold")
    run([*GIT, "tag", "v2"], cwd=template)

    update_project(project, {}, quiet=True, skip_tasks=True)

    assert "threshold: 0.5" in (project / "params.yaml").read_text()
    assert "Ask #churn-ml for access." in readme.read_text()
    assert (project / "src" / "churn_forecast" / "extra.py").exists()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v2"
    assert answers["tracking"] == "both"  # previous answers are kept
    assert not list(project.rglob("*.rej"))


def test_update_refreshes_the_dev_container_and_keeps_its_local_edits(tmp_path: Path) -> None:
    _, project = template_and_project(tmp_path, {"project_name": "Churn Forecast"})
    template = tmp_path / "template-repo"
    config = project / ".devcontainer" / "devcontainer.json"
    config.write_text(config.read_text().replace('"cpus": 4', '"cpus": 8'))
    commit_all(project, "more cores for our codespaces")

    # The kit's image recipe changes (one file in devcontainer/), and the template is tagged v2.
    dockerfile = template / "devcontainer" / "Dockerfile"
    recipe = dockerfile.read_text()
    assert " less openssh-client " in recipe
    dockerfile.write_text(recipe.replace(" less openssh-client ", " less make openssh-client "))
    commit_all(template, "image: add make")
    run([*GIT, "tag", "v2"], cwd=template)

    update_project(project, {}, quiet=True, skip_tasks=True)

    generated = project / ".devcontainer" / "Dockerfile"
    assert generated.read_bytes() == dockerfile.read_bytes()
    assert " less make openssh-client " in generated.read_text()
    assert '"cpus": 8' in config.read_text()
    assert not list(project.rglob("*.rej"))


def test_update_can_change_an_answer(tmp_path: Path) -> None:
    answers = {"project_name": "Churn Forecast", "ci": "github"}
    _, project = template_and_project(tmp_path, answers)

    update_project(project, {"ci": "gitlab"}, quiet=True, skip_tasks=True)

    assert (project / ".gitlab-ci.yml").is_file()
    assert not (project / ".github").exists()


def test_update_refuses_uncommitted_changes_and_keeps_them(tmp_path: Path) -> None:
    _, project = template_and_project(tmp_path, {"project_name": "Churn Forecast"})
    params = project / "params.yaml"
    params.write_text(params.read_text() + "# work in progress\n")

    with pytest.raises(TemplateError, match="dirty"):
        update_project(project, {}, quiet=True, skip_tasks=True)
    assert params.read_text().endswith("# work in progress\n")
