"""The portal's view models, built from the registry's, the gateway's and Feast's answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stratakit.features.catalog import FeatureViewEntry
from stratakit.portal.views import alias_events, feature_rows, model_views, service_link
from stratakit.registry.tracking_api import ModelVersion, RegisteredModel
from stratakit.stack.lifecycle import ServiceStatus

T0 = 1_796_000_000_000


def version(name: str, number: int, **tags: str) -> ModelVersion:
    return ModelVersion(name, str(number), f"s3://b/{name}/{number}", "", T0 + number, tags)


def test_versions_come_newest_first_with_aliases_served_and_refused() -> None:
    models = [
        RegisteredModel("churn", {"production": "2", "staging": "3"}, description="<b>x</b>"),
        RegisteredModel("empty", {}),
    ]
    versions = [version("churn", n, **{"strata.owner": "team-a"}) for n in (1, 3, 2)]
    gateway = {"models": {"churn": "2"}, "refused": {"churn": "3"},
               "refused_reasons": {"churn": "sha256 mismatch"}}  # fmt: skip
    churn, empty = model_views(models, versions, gateway)
    assert [v.version for v in churn.versions] == ["3", "2", "1"]
    assert [v.served for v in churn.versions] == [False, True, False]
    assert churn.versions[0].aliases == ("staging",)
    assert (churn.served_version, churn.refused_version) == ("2", "3")
    assert churn.refused_reason == "sha256 mismatch"
    assert churn.versions[1].lineage.owner == "team-a"
    assert churn.description == "<b>x</b>"  # escaping is the template's job
    assert empty.versions == () and empty.served_version is None


def test_a_gateway_that_does_not_answer_serves_nothing() -> None:
    [churn] = model_views([RegisteredModel("churn", {"production": "1"})], [version("churn", 1)],
                          None)  # fmt: skip
    assert churn.served_version is None and not churn.versions[0].served


def test_promotions_and_rollbacks_newest_first() -> None:
    events = alias_events(
        [
            version("m", 1, **{"strata.promotion.at": "2026-12-01T10:00:00+00:00",
                               "strata.promotion.reason": "first", "strata.promotion.by": "a"}),
            version("m", 2, **{"strata.promotion.at": "2026-12-02T10:00:00+00:00",
                               "strata.promotion.previous": "1"}),
            version("m", 3),
            version("m", 1, **{"strata.rollback.at": "2026-12-03T10:00:00+00:00",
                               "strata.rollback.from": "2", "strata.rollback.alias": "prod"}),
        ]
    )  # fmt: skip
    assert [(e.kind, e.version, e.previous) for e in events] == [
        ("rollback", "1", "2"),
        ("promotion", "2", "1"),
        ("promotion", "1", ""),
    ]
    assert events[0].alias == "prod" and events[2].reason == "first" and events[2].by == "a"


def entry(materialized: datetime | None, ttl: float = 86_400.0) -> FeatureViewEntry:
    return FeatureViewEntry(
        name="v", description="", owner="o", entities=("customer",), join_keys=("id",),
        features=(("f", "Float64"),), source="s", ttl_seconds=ttl, tags={},
        last_materialized=materialized,
    )  # fmt: skip


def test_freshness_is_the_share_of_the_time_to_live_left() -> None:
    now = datetime(2026, 12, 3, 12, tzinfo=UTC)
    fresh, old, never, no_ttl = feature_rows(
        [entry(now - timedelta(hours=6)), entry(now - timedelta(days=2)), entry(None),
         entry(now, ttl=0)],
        now,
    )  # fmt: skip
    assert fresh.age_seconds == 6 * 3600 and fresh.freshness == 0.75
    assert old.freshness == 0.0
    assert never.age_seconds is None and never.freshness is None
    assert no_ttl.freshness is None


def status(name: str, forwarded: bool = True) -> ServiceStatus:
    return ServiceStatus(name, name, f"http://127.0.0.1:1/{name}", 1, forwarded, "healthy", 1, 0)


def test_links_open_uis_the_openapi_and_a_signed_bucket_listing() -> None:
    assert service_link(status("mlflow")) == "http://127.0.0.1:1/mlflow"
    assert service_link(status("gateway")) == "http://127.0.0.1:1/gateway/openapi.json"
    assert service_link(status("object-store"), "http://signed") == "http://signed"
    assert service_link(status("object-store")) is None  # unsigned, S3 answers 400
    assert service_link(status("prefect-worker", forwarded=False)) is None
