"""``[tool.strata.stack]``: the profile and the images, and what each mistake says."""

from __future__ import annotations

import pytest

from stratakit.errors import SettingsError
from stratakit.settings.stack import StackSettings, parse_stack


def test_stack_table_names_the_profile_and_images() -> None:
    assert parse_stack({}) == StackSettings(profile="embedded", images={})
    settings = parse_stack(
        {"profile": "compose", "images": {"platform": "registry.example.com/ml/platform:1.2"}}
    )
    assert settings.profile == "compose"
    assert settings.images == {"platform": "registry.example.com/ml/platform:1.2"}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"profil": "compose"}, "unknown key 'profil' \\(did you mean 'profile'\\?\\)"),
        ({"profile": "k8s"}, r"stack\]\.profile = 'k8s' is not a profile; use one of: embedded"),
        ({"images": {"postgress": "pg:16"}}, "did you mean 'postgres'"),
        ({"images": {"redis": "Redis Latest"}}, r"images\]\.redis = 'Redis Latest' is not an"),
        ({"images": []}, "must be a table"),
    ],
)
def test_a_bad_stack_setting_is_named(table: object, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_stack(table)
