"""The feature catalog: views as entries, and the model versions using them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stratakit.errors import InvalidInputError
from stratakit.features.catalog import catalog, models_using, view_entry
from stratakit.registry.lineage import FEATURE_REFS_TAG


def test_refs_are_mapped_to_the_versions_using_them() -> None:
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


def test_the_registry_file_reads_as_feast_reads_it(tmp_path: Path) -> None:
    """The catalog reads the stack's file registry directly; Feast itself agrees with it."""
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource
    from feast.repo_config import RepoConfig
    from feast.types import Float64, Int64, String
    from feast.value_type import ValueType

    repo = tmp_path / "feature_repo"
    repo.mkdir()
    (repo / "feature_store.yaml").write_text("project: churn\n")
    registry = tmp_path / "registry.db"
    config = RepoConfig(
        project="churn", provider="local", registry=str(registry), repo_path=str(repo),
        online_store={"type": "sqlite", "path": str(tmp_path / "online.db")},
        entity_key_serialization_version=3,
    )  # fmt: skip
    store = FeatureStore(config=config)
    customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.STRING)
    view = FeatureView(
        name="customers",
        entities=[customer],
        ttl=timedelta(days=30),
        schema=[
            Field(name="tenure", dtype=Float64),
            Field(name="calls", dtype=Int64),
            Field(name="customer_id", dtype=String),
        ],
        source=FileSource(path="s3://bucket/features/c.parquet", timestamp_field="ts"),
        owner="ml-platform",
        description="Monthly customer snapshot.",
        tags={"team": "ml"},
    )
    store.apply([customer, view])
    store.registry.apply_materialization(
        view, "churn", datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC)
    )
    contract = {"STRATA_FEATURE_REPO": str(repo), "STRATA_FEAST_REGISTRY": str(registry)}
    versions = [("churn_model", "2", {FEATURE_REFS_TAG: "customers:tenure"})]
    [entry] = catalog(contract, versions)
    [by_feast] = [view_entry(v, ["churn_model/2"]) for v in store.list_feature_views()]
    assert entry == by_feast
    assert entry.features == (("tenure", "Float64"), ("calls", "Int64"))
    assert entry.last_materialized == datetime(2025, 6, 1, tzinfo=UTC)


def test_no_registry_yet_means_no_views_and_no_repository_is_named(tmp_path: Path) -> None:
    repo = tmp_path / "feature_repo"
    repo.mkdir()
    (repo / "feature_store.yaml").write_text("project: churn\n")
    contract = {"STRATA_FEATURE_REPO": str(repo), "STRATA_FEAST_REGISTRY": str(tmp_path / "r.db")}
    assert catalog(contract, []) == []
    with pytest.raises(InvalidInputError, match=r"has no feature_store\.yaml"):
        catalog({**contract, "STRATA_FEATURE_REPO": str(tmp_path)}, [])
