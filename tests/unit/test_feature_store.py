"""The feature-store glue: repository setting, contract variables, catalog entries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from stratakit.errors import InvalidInputError
from stratakit.feature_store import (
    FEATURE_REFS_TAG,
    feature_repo,
    feature_store_contract,
    models_using,
    online_store,
    parse_refs,
    view_entry,
)
from stratakit.project import Project
from stratakit.stack_context import contract_for, prepare_context


def _with_features(project: Project, table: str) -> Project:
    path = project.root / "pyproject.toml"
    path.write_text(path.read_text() + f"\n[tool.strata.features]\n{table}\n")
    return Project(root=project.root)


def test_the_repository_defaults_to_feature_repo(project: Project) -> None:
    assert feature_repo(project) == project.root / "feature_repo"
    assert feature_repo(_with_features(project, 'repo = "features/repo"')) == (
        project.root / "features" / "repo"
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('repository = "x"', "unknown key 'repository'"),
        ('repo = "/etc"', "must be a folder inside the project"),
        ('repo = "../elsewhere"', "must be a folder inside the project"),
        ("repo = 3", "must be a folder inside the project"),
        ('online_store = "postgres://db"', 'must be "sqlite" or a redis://'),
        ('online_store = "redis://:s3cret@cache:6379"', "holds a credential"),
        ('online_store = "redis://cache:port"', "invalid port"),
        ('online_store = "redis://cache/zero"', "the database must be a number"),
    ],
)
def test_a_bad_repository_setting_is_named(project: Project, table: str, message: str) -> None:
    configured = _with_features(project, table)
    with pytest.raises(InvalidInputError, match=message):
        feature_repo(configured)
        online_store(configured)


def test_redis_is_selected_by_configuration_in_feasts_own_shape(project: Project) -> None:
    from feast.repo_config import RepoConfig

    configured = _with_features(project, 'online_store = "redis://cache.internal:6380/2"')
    block = online_store(configured)
    assert block == {"type": "redis", "connection_string": "cache.internal:6380,db=2"}
    config = RepoConfig(
        project="p", provider="local", registry="r.db", online_store=block,
        entity_key_serialization_version=3,
    )  # fmt: skip
    assert config.online_store.type == "redis"
    assert config.online_store.connection_string == "cache.internal:6380,db=2"
    contract = feature_store_contract(configured)
    assert json.loads(contract["STRATA_FEAST_ONLINE_STORE"]) == block


def test_the_contract_places_feast_state_under_the_stack_folder(project: Project) -> None:
    contract = contract_for(prepare_context(project))
    assert contract["STRATA_FEAST_REGISTRY"] == str(project.data_dir / "feast" / "registry.db")
    assert json.loads(contract["STRATA_FEAST_ONLINE_STORE"]) == {
        "type": "sqlite",
        "path": str(project.data_dir / "feast" / "online.db"),
    }
    assert contract["STRATA_FEATURE_REPO"] == str(project.root / "feature_repo")
    assert (project.data_dir / "feast").stat().st_mode & 0o077 == 0
    assert feature_store_contract(project).items() <= contract.items()


def test_refs_are_parsed_and_mapped_to_the_versions_using_them() -> None:
    assert parse_refs(" a:x, b:y,,") == ("a:x", "b:y")
    used = models_using(
        [
            ("churn", "1", {FEATURE_REFS_TAG: "customers:tenure,customers:spend"}),
            ("churn", "2", {FEATURE_REFS_TAG: "customers:tenure,usage:hours"}),
            ("other", "4", {"strata.features": "tenure"}),
        ]
    )
    assert used == {"customers": ["churn/1", "churn/2"], "usage": ["churn/2"]}


def test_a_view_becomes_a_catalog_entry() -> None:
    from feast import Entity, FeatureView, Field, FileSource
    from feast.types import Float64, String
    from feast.value_type import ValueType

    customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.STRING)
    view = FeatureView(
        name="customers",
        entities=[customer],
        ttl=timedelta(days=30),
        schema=[Field(name="tenure", dtype=Float64), Field(name="customer_id", dtype=String)],
        source=FileSource(path="s3://bucket/features/customers.parquet", timestamp_field="ts"),
        owner="ml-platform",
        description="Monthly customer snapshot.",
        tags={"team": "ml"},
    )
    view.materialization_intervals.append(
        (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC))
    )
    entry = view_entry(view, ["churn/3"])
    assert entry.name == "customers"
    assert entry.join_keys == ("customer_id",)
    assert entry.features == (("tenure", "Float64"),)
    assert entry.owner == "ml-platform"
    assert entry.source == "s3://bucket/features/customers.parquet"
    assert entry.ttl_seconds == 30 * 86400
    assert entry.last_materialized == datetime(2025, 6, 1, tzinfo=UTC)
    assert entry.as_json()["used_by"] == ["churn/3"]
    assert entry.as_json()["last_materialized"] == "2025-06-01T00:00:00+00:00"
