"""Invalid answers are refused with a message that says what is allowed; nothing is written."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from stratakit import __version__

from ..helpers.projects import strata
from ..helpers.templates import KIT_ROOT, render

# (question, bad answer, a fragment the message must contain): one case per rule.
INVALID = [
    ("project_name", "   ", "project_name is required"),
    ("project_name", "9 lives", "must start with a letter"),
    ("project_name", "Churn; rm -rf /", "must start with a letter and use only"),
    ("project_name", "A" * 61, "at most 60 characters"),
    ("package_name", "Churn-Model", "lowercase Python identifier"),
    ("package_name", "import", "is a Python keyword"),
    ("package_name", "json", "shadows the standard-library module"),
    ("package_name", "tomllib", "shadows the standard-library module"),
    ("package_name", "mlflow", "shadows a dependency"),
    ("package_name", "a" * 33, "at most 32 characters"),
    ("description", "two\nlines", "single line"),
    ("description", "d" * 201, "at most 200 characters"),
    ("author_name", 'Ann "The" Analyst', "double quotes"),
    ("author_email", "not-an-address", "must look like name@example.com"),
    ("owner_team", "ML Platform", "lowercase letters, digits or dashes"),
    ("python_version", "3.10", "3.11"),
    ("tracking", "neptune", "mlflow"),
    ("devcontainer", "rocm", "cuda"),
    ("ci", "jenkins", "github"),
    ("license", "GPL-3.0", "Apache-2.0"),
    ("kit_source", "/path with spaces", "may not contain spaces"),
]


@pytest.mark.parametrize(("question", "answer", "message"), INVALID)
def test_invalid_answer_is_refused(
    tmp_path: Path, question: str, answer: str, message: str
) -> None:
    dest = tmp_path / "project"
    data = {"project_name": "Churn Forecast", question: answer}
    with pytest.raises(ValueError, match=question) as raised:
        render(dest, data)
    assert message in str(raised.value)
    assert not dest.exists()


def test_stdlib_list_covers_this_interpreter() -> None:
    config = yaml.safe_load((KIT_ROOT / "copier.yml").read_text())
    listed = set(config["stdlib_modules"]["default"])
    public = {name.lower() for name in sys.stdlib_module_names if not name.startswith("_")}
    assert public <= listed, sorted(public - listed)


def test_template_pins_this_kit_version() -> None:
    config = yaml.safe_load((KIT_ROOT / "copier.yml").read_text())
    pyproject = tomllib.loads((KIT_ROOT / "pyproject.toml").read_text())
    assert config["kit_version"]["default"] == __version__ == pyproject["project"]["version"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "tracking=neptune"], "Invalid choice for 'tracking'"),
        (["--data", "package_name=json"], "shadows the standard-library module"),
        (["--data", "colour=blue"], "no such question"),
        (["--data", "tracking"], "is not KEY=VALUE"),
    ],
)
def test_cli_refuses_bad_data_in_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    dest = tmp_path / "new-project"
    result = strata("new", str(dest), "--defaults", *args, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error:")
    assert not dest.exists()


def test_cli_refuses_a_non_empty_destination(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("keep me")
    result = strata("new", "taken", "--defaults", cwd=tmp_path)
    assert result.returncode == 1
    assert "not empty" in result.stderr
    assert (tmp_path / "taken" / "notes.txt").read_text() == "keep me"


def test_update_refuses_a_project_not_made_from_the_template(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0"\n')
    result = strata("update", cwd=tmp_path)
    assert result.returncode == 1
    assert "not generated from the template" in result.stderr
