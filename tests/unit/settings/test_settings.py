"""The whole `[tool.strata]` table: its defaults, its top-level mistakes, and parsing it once."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratakit.errors import SettingsError
from stratakit.project import Project
from stratakit.settings import StrataSettings, parse_settings
from stratakit.stack.context import prepare_context

from ...helpers.projects import assert_one_line_error, make_project, strata


def test_an_empty_table_gives_the_defaults(tmp_path: Path) -> None:
    settings = parse_settings({}, tmp_path)
    assert settings == StrataSettings()
    assert settings.bucket is None
    assert settings.model_name is None
    assert settings.owner is None
    assert settings.serving.alias == "production"
    assert settings.features.repo == "feature_repo"
    assert settings.quality_gate == ()
    assert dict(settings.queues) == {}
    assert dict(settings.flows) == {}


def test_the_top_level_keys_are_read(tmp_path: Path) -> None:
    table = {
        "bucket": "churn-data",
        "model_name": "churn",
        "owner": "risk-ds",
        "serving": {"alias": "champion"},
        "features": {"repo": "features"},
    }
    settings = parse_settings(table, tmp_path)
    assert (settings.bucket, settings.model_name, settings.owner) == (
        "churn-data",
        "churn",
        "risk-ds",
    )
    assert settings.serving.alias == "champion"
    assert settings.features.repo == "features"


def test_a_misspelt_top_level_key_suggests_the_real_one(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings({"quality-gate": []}, tmp_path)
    message = str(caught.value)
    assert "[tool.strata] has unknown key 'quality-gate'" in message
    assert "did you mean 'quality_gate'?" in message
    assert (
        "valid keys: bucket, model_name, owner, serving, features, quality_gate, queues, stack, "
        "monitoring, flows" in message
    )


def test_a_table_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"\[tool\.strata\] must be a table"):
        parse_settings("churn", tmp_path)


def test_an_invalid_bucket_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"bucket = 'Churn_Data' is not a valid bucket name"):
        parse_settings({"bucket": "Churn_Data"}, tmp_path)


@pytest.mark.parametrize("key", ["model_name", "owner"])
@pytest.mark.parametrize("value", ["", "   ", 3, ["churn"]])
def test_model_name_and_owner_must_be_non_empty_strings(
    tmp_path: Path, key: str, value: object
) -> None:
    with pytest.raises(SettingsError, match=rf"\[tool\.strata\]\.{key} = .* non-empty string"):
        parse_settings({key: value}, tmp_path)


def test_a_project_parses_its_settings_once(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", "p", '[tool.strata]\nmodel_name = "churn"')
    first = project.settings
    (project.root / "pyproject.toml").write_text('[project]\nname = "p"\n')
    assert project.settings is first
    assert project.settings.model_name == "churn"


def test_a_broken_serving_table_stops_stack_status_with_one_line(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", "p")
    prepare_context(project)
    with (project.root / "pyproject.toml").open("a") as handle:
        handle.write('\n[tool.strata.serving]\nalias = "two words"\n')
    result = strata("stack", "status", cwd=project.root, timeout=60)
    assert_one_line_error(result, "[tool.strata.serving]", "two words")
    assert Project(root=project.root).state_file.exists()
