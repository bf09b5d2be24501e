"""``[tool.strata.features]``: the repository folder and the online store, in Feast's shape."""

from __future__ import annotations

import pytest

from stratakit.errors import SettingsError
from stratakit.settings.features import FeaturesSettings, RedisStore, parse_features


def test_the_repository_defaults_to_feature_repo() -> None:
    assert parse_features({}) == FeaturesSettings(repo="feature_repo", online_store=None)
    assert parse_features({"repo": "features/repo"}).repo == "features/repo"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"repository": "x"}, "unknown key 'repository' \\(did you mean 'repo'\\?\\)"),
        ({"repo": "/etc"}, "must be a folder inside the project"),
        ({"repo": "../elsewhere"}, "must be a folder inside the project"),
        ({"repo": 3}, "must be a folder inside the project"),
        ({"online_store": "postgres://db"}, 'must be "sqlite" or a redis://'),
        ({"online_store": "redis://:s3cret@cache:6379"}, "holds a credential"),
        ({"online_store": "redis://cache:port"}, "invalid port"),
        ({"online_store": "redis://cache/zero"}, "the database must be a number"),
        ("sqlite", "must be a table"),
    ],
)
def test_a_bad_features_setting_is_named(table: object, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_features(table)


def test_redis_is_selected_by_configuration_in_feasts_own_shape() -> None:
    from feast.repo_config import RepoConfig

    settings = parse_features({"online_store": "redis://cache.internal:6380/2"})
    assert settings.online_store == RedisStore(host="cache.internal", port=6380, db="2")
    block = settings.online_store_block("/unused.db")
    assert block == {"type": "redis", "connection_string": "cache.internal:6380,db=2"}
    config = RepoConfig(
        project="p", provider="local", registry="r.db", online_store=block,
        entity_key_serialization_version=3,
    )  # fmt: skip
    assert config.online_store.type == "redis"
    assert config.online_store.connection_string == "cache.internal:6380,db=2"


def test_sqlite_is_the_default_online_store() -> None:
    block = parse_features({"online_store": "sqlite"}).online_store_block("/s/online.db")
    assert block == {"type": "sqlite", "path": "/s/online.db"}
