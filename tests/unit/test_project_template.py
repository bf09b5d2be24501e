"""Where `strata new` finds its template, its --data options, and what it refuses up front."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratakit.errors import InvalidInputError
from stratakit.project_template import (
    TemplateSource,
    new_project,
    parse_data,
    questions,
    update_project,
)

from ..helpers.projects import KIT_ROOT


@pytest.fixture
def template() -> Path:
    return TemplateSource.locate().path


def test_a_checkout_generates_from_itself_and_installs_the_kit_from_itself() -> None:
    source = TemplateSource.locate()
    assert source.path == KIT_ROOT
    assert (source.path / "copier.yml").is_file()
    assert source.kit_source == "vendored"


def test_only_the_public_questions_are_offered(template: Path) -> None:
    offered = questions(template)
    assert {"project_name", "tracking", "python_version"} <= offered.keys()
    assert not [name for name in offered if name.startswith("_")]
    assert "project_slug" not in offered  # computed, never asked
    assert "python_keywords" not in offered


def test_data_options_become_answers(template: Path) -> None:
    data = parse_data(["tracking=both", "project_name=X Y", "description=a=b"], template)
    assert data == {"tracking": "both", "project_name": "X Y", "description": "a=b"}


def test_a_data_option_without_a_value_shows_the_form(template: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"KEY=VALUE, e\.g\. --data tracking=both"):
        parse_data(["tracking"], template)


def test_an_unknown_question_lists_the_real_ones(template: Path) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_data(["nosuch=1"], template)
    message = str(caught.value)
    assert "nosuch" in message
    for name in ("project_name", "tracking", "python_version"):
        assert name in message


def test_a_new_project_is_never_generated_over_an_existing_folder(tmp_path: Path) -> None:
    dest = tmp_path / "existing"
    dest.mkdir()
    (dest / "notes.txt").write_text("keep me")
    with pytest.raises(InvalidInputError, match="not empty"):
        new_project(dest, {"project_name": "Churn"}, defaults=True, quiet=True)
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]
    assert (dest / "notes.txt").read_text() == "keep me"


def test_a_new_project_is_never_generated_over_a_file(tmp_path: Path) -> None:
    dest = tmp_path / "a-file"
    dest.write_text("keep me")
    with pytest.raises(InvalidInputError, match="already exists"):
        new_project(dest, {}, defaults=True, quiet=True)
    assert dest.read_text() == "keep me"


def test_only_a_generated_project_can_be_updated(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "hand-made"\n')
    with pytest.raises(InvalidInputError, match=r"\.copier-answers\.yml"):
        update_project(tmp_path, {}, quiet=True)
    assert [p.name for p in tmp_path.iterdir()] == ["pyproject.toml"]
