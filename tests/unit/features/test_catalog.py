"""The feature catalog: views as entries, and the model versions using them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stratakit.features.catalog import models_using, view_entry
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
