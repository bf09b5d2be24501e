"""The template renders cleanly for a pruned matrix of answer sets (fast: no tasks run)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import json5
import yaml

from stratakit import __version__
from stratakit.project import Project

from ..helpers.templates import KIT_ROOT, run, tool

LEFTOVER = re.compile(r"(?<!\$)\{\{|\{%|%\}")


def files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_no_template_syntax_is_left(rendered: Any) -> None:
    root, _ = rendered
    for path in files(root):
        text = path.read_text(encoding="utf-8")
        match = LEFTOVER.search(text)
        assert match is None, (
            f"{path.relative_to(root)}: {text[match.start() - 40 : match.end() + 40]!r}"
        )
        assert not path.name.endswith(".jinja"), path


def test_every_structured_file_parses(rendered: Any) -> None:
    root, _ = rendered
    checked = 0
    for path in files(root):
        text = path.read_text(encoding="utf-8")
        if path.name == "devcontainer.json":
            json5.loads(text)  # JSONC, as the dev container spec allows
        elif path.suffix in {".json", ".ipynb"}:
            json.loads(text)
        elif path.suffix in {".yml", ".yaml"}:
            yaml.safe_load(text)
        elif path.suffix == ".toml":
            tomllib.loads(text)
        elif path.suffix == ".py":
            compile(text, str(path), "exec")
        else:
            continue
        checked += 1
    assert checked >= 15


def test_python_passes_the_projects_own_ruff_settings(rendered: Any) -> None:
    root, answers = rendered
    targets = ["src", "tests", "noxfile.py"] + (["notebooks"] if answers["notebooks"] else [])
    run([tool("ruff"), "check", "--no-cache", *targets], cwd=root)
    run([tool("ruff"), "format", "--check", "--no-cache", *targets], cwd=root)


def test_ci_files_match_the_chosen_provider(rendered: Any) -> None:
    root, answers = rendered
    workflows = root / ".github" / "workflows"
    assert workflows.is_dir() == (answers["ci"] == "github")
    assert (root / ".gitlab-ci.yml").is_file() == (answers["ci"] == "gitlab")
    if answers["ci"] == "github":
        for workflow in workflows.glob("*.yml"):
            run([tool("actionlint"), "-no-color", str(workflow)], cwd=root)
            run(
                [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", workflow],
                cwd=root,
            )
    if answers["ci"] == "gitlab":
        run(
            [tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", ".gitlab-ci.yml"],
            cwd=root,
        )


def test_pyproject_follows_the_answers(rendered: Any) -> None:
    root, answers = rendered
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    project = pyproject["project"]
    deps = " ".join(project["dependencies"])
    assert project["requires-python"] == f">={answers['python_version']}"
    assert (root / ".python-version").read_text().strip() == answers["python_version"]
    assert ("mlflow" in deps) == (answers["tracking"] in {"mlflow", "both"})
    assert ("wandb" in deps) == (answers["tracking"] in {"wandb", "both"})
    dev = [d for d in pyproject["dependency-groups"]["dev"] if isinstance(d, str)]
    assert f"stratakit=={__version__}" in dev
    assert ("nbstripout>=0.8" in dev) == answers["notebooks"]
    assert (root / "src" / answers["package_name"] / "pipeline.py").is_file()
    assert pyproject["tool"]["strata"]["owner"] == answers["owner_team"]
    assert Project(root=root).bucket == pyproject["tool"]["strata"]["bucket"]


def test_notebooks_and_licence_follow_the_answers(rendered: Any) -> None:
    root, answers = rendered
    assert (root / "notebooks" / "explore.ipynb").is_file() == answers["notebooks"]
    licence = (root / "LICENSE").read_text()
    first_line = {
        "Apache-2.0": "Apache License",
        "MIT": "MIT License",
        "BSD-3-Clause": "BSD 3-Clause License",
        "Proprietary": "All rights reserved.",
    }[answers["license"]]
    assert first_line in licence.splitlines()[0]
    if answers["license"] != "Apache-2.0":
        assert answers["author_name"] in licence


def test_dvc_remote_is_the_bucket_without_endpoint_or_secret(rendered: Any) -> None:
    root, _ = rendered
    config = (root / ".dvc" / "config").read_text()
    bucket = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["strata"]["bucket"]
    assert f"url = s3://{bucket}/dvc" in config
    assert "endpoint" not in config
    assert "secret" not in config.lower()
    assert not (root / ".env").exists()
    ignored = (root / ".gitignore").read_text().splitlines()
    assert ".strata/" in ignored and ".env" in ignored


def test_pre_commit_hooks_never_clone_from_the_network(rendered: Any) -> None:
    root, answers = rendered
    config = yaml.safe_load((root / ".pre-commit-config.yaml").read_text())
    assert {repo["repo"] for repo in config["repos"]} == {"local"}
    ids = {hook["id"] for repo in config["repos"] for hook in repo["hooks"]}
    expected = {
        "ruff-check", "ruff-format", "mypy", "check-yaml", "check-toml", "check-json",
        "end-of-file-fixer", "trailing-whitespace", "check-added-large-files",
        "detect-secrets", "uv-lock", "dvc-pre-commit", "dvc-pre-push", "hadolint",
    }  # fmt: skip
    assert expected <= ids
    assert ("nbstripout" in ids) == answers["notebooks"]


def test_answers_file_records_every_public_answer(rendered: Any) -> None:
    _, answers = rendered
    for key in ("project_name", "package_name", "owner_team", "tracking", "ci", "kit_source"):
        assert key in answers
    assert "stdlib_modules" not in answers  # hidden helper lists are not recorded


def test_uv_is_one_pinned_version_everywhere(rendered: Any) -> None:
    """The kit, its scripts, the project, its CI and its dev container run the same uv."""
    root, answers = rendered
    kit = tomllib.loads((KIT_ROOT / "pyproject.toml").read_text())["tool"]["uv"]
    pinned = kit["required-version"].removeprefix("==")
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), kit["required-version"]
    assert f'UV_VERSION="{pinned}"' in (KIT_ROOT / "scripts" / "ensure-uv.sh").read_text()
    project = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["uv"]
    assert project["required-version"] == f"=={pinned}"
    dockerfile = (root / ".devcontainer" / "Dockerfile").read_text()
    assert f"ghcr.io/astral-sh/uv:{pinned}\n" in dockerfile
    if answers["ci"] == "github":
        workflow = yaml.safe_load((root / ".github" / "workflows" / "ci.yml").read_text())
        setups = [
            step["with"]["version"]
            for job in workflow["jobs"].values()
            for step in job["steps"]
            if str(step.get("uses", "")).startswith("astral-sh/setup-uv")
        ]
        assert setups and set(setups) == {pinned}
    if answers["ci"] == "gitlab":
        assert f'pip install --quiet "uv=={pinned}"' in (root / ".gitlab-ci.yml").read_text()


def test_the_kit_is_vendored_by_default_and_locked_by_path(rendered: Any) -> None:
    root, answers = rendered
    assert answers["kit_source"] == "vendored"
    sources = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["uv"]["sources"]
    assert sources["stratakit"] == {"path": f"vendor/stratakit-{__version__}-py3-none-any.whl"}
