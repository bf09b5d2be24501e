"""What the portal shows, gathered from the same APIs the CLI reads.

Each section (services, models, features, pipelines, monitoring) is collected on its own,
in parallel: a service that is down turns its section into one line saying so, never the
whole page into an error. Everything here only reads.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx
import psutil

import stratakit.http as http
from stratakit.errors import StrataError
from stratakit.registry.lineage import TAG_PREFIX, Lineage

if TYPE_CHECKING:
    from stratakit.features.catalog import FeatureViewEntry
    from stratakit.flows.runs import FlowStatus, RecentRun
    from stratakit.project import Project
    from stratakit.registry.tracking_api import ModelVersion, RegisteredModel
    from stratakit.stack.lifecycle import ServiceStatus

T = TypeVar("T")

#: The object store's link: a presigned bucket listing, renewed long before it expires.
LISTING_VALID_SECONDS = 3600
LISTING_RENEW_SECONDS = 600
#: The registry's event tags on a version: ``strata.promotion.*`` and ``strata.rollback.*``.
_EVENTS = ("promotion", "rollback")


@dataclass(frozen=True)
class Section(Generic[T]):
    """One section's rows, or why they could not be read."""

    rows: T
    error: str | None = None
    took_ms: float = 0.0


@dataclass(frozen=True)
class ServiceRow:
    """A stack service as the services table shows it."""

    name: str
    title: str
    status: str
    url: str
    link: str | None
    """Where people open it (a UI, the gateway's OpenAPI); ``None`` for background services."""
    memory_mb: float | None
    uptime: str
    pid: int | None

    @property
    def healthy(self) -> bool:
        """Whether the service answered its health check."""
        return self.status == "healthy"


@dataclass(frozen=True)
class AliasEvent:
    """A promotion or rollback recorded on a version (``strata.<kind>.*`` tags)."""

    kind: str
    alias: str
    version: str
    previous: str
    at: str
    by: str
    reason: str


@dataclass(frozen=True)
class VersionRow:
    """One registered version with its lineage answers."""

    version: str
    aliases: tuple[str, ...]
    created: datetime
    lineage: Lineage
    served: bool
    verdict: str


@dataclass(frozen=True)
class ModelView:
    """A registered model: aliases, versions (newest first), what serves, what happened."""

    name: str
    description: str
    aliases: Mapping[str, str]
    versions: tuple[VersionRow, ...]
    served_version: str | None
    refused_version: str | None
    refused_reason: str | None
    history: tuple[AliasEvent, ...]


@dataclass(frozen=True)
class FeatureRow:
    """A feature view, how fresh it is against its time to live, and who uses it."""

    entry: FeatureViewEntry
    age_seconds: float | None

    @property
    def freshness(self) -> float | None:
        """Share of the time to live still left (1 fresh, 0 expired; ``None``: unknown)."""
        if self.age_seconds is None or not self.entry.ttl_seconds:
            return None
        return max(0.0, 1.0 - self.age_seconds / self.entry.ttl_seconds)


@dataclass(frozen=True)
class Pipelines:
    """The configured flows and the latest runs of their deployments."""

    flows: list[FlowStatus]
    runs: list[RecentRun]


@dataclass(frozen=True)
class Overview:
    """Everything on the page, at one moment."""

    project: str
    profile: str
    generated_at: datetime
    services: Section[list[ServiceRow]]
    models: Section[list[ModelView]]
    features: Section[list[FeatureRow]]
    pipelines: Section[Pipelines]
    monitoring: Section[list[dict[str, Any]]]
    took_ms: float = 0.0
    notes: list[str] = field(default_factory=list)


def uptime(pid: int | None, now: float | None = None) -> str:
    """``2h 5m`` since the process started (``-`` when it does not run)."""
    from stratakit.monitor.status import age

    if pid is None:
        return "-"
    try:
        started = psutil.Process(pid).create_time()
    except psutil.Error:
        return "-"
    moment = datetime.fromtimestamp(started, UTC)
    current = datetime.fromtimestamp(now, UTC) if now is not None else None
    return age(moment, current)


def service_link(status: ServiceStatus, bucket_listing: str | None = None) -> str | None:
    """Where people open a service: the UIs, the gateway's OpenAPI, the bucket's listing.

    The S3 API answers nothing unsigned, so the object store's link is a presigned listing
    of the project's bucket (``None`` when it could not be signed).
    """
    if not status.forwarded:
        return None
    if status.name == "gateway":
        return f"{status.url}/openapi.json"
    if status.name == "object-store":
        return bucket_listing
    return status.url


def service_rows(
    statuses: Iterable[ServiceStatus], bucket_listing: str | None = None
) -> list[ServiceRow]:
    """The status rows ``strata stack status`` prints, with links and uptimes."""
    return [
        ServiceRow(
            name=s.name,
            title=s.title,
            status=s.status,
            url=s.url,
            link=service_link(s, bucket_listing),
            memory_mb=s.rss_bytes / 2**20 if s.rss_bytes else None,
            uptime=uptime(s.pid) if s.status != "stopped" else "-",
            pid=s.pid,
        )
        for s in statuses
    ]


def alias_events(versions: Iterable[ModelVersion]) -> list[AliasEvent]:
    """Promotions and rollbacks recorded on the versions, newest first."""
    events = []
    for version in versions:
        for kind in _EVENTS:
            prefix = f"{TAG_PREFIX}{kind}."
            if prefix + "at" not in version.tags:
                continue

            def tag(key: str, prefix: str = prefix, version: ModelVersion = version) -> str:
                return version.tags.get(prefix + key, "")

            events.append(
                AliasEvent(
                    kind=kind,
                    alias=tag("alias") or "production",
                    version=version.version,
                    previous=tag("previous") or tag("from"),
                    at=tag("at"),
                    by=tag("by"),
                    reason=tag("reason"),
                )
            )
    return sorted(events, key=lambda e: e.at, reverse=True)


def model_views(
    models: Iterable[RegisteredModel],
    versions: Iterable[ModelVersion],
    gateway: Mapping[str, Any] | None,
) -> list[ModelView]:
    """Each registered model with its versions and what the gateway does with it.

    ``gateway`` is the gateway's ``GET /v2`` answer (``None`` when it does not answer).
    """
    by_model: dict[str, list[ModelVersion]] = {}
    for version in versions:
        by_model.setdefault(version.name, []).append(version)
    served = (gateway or {}).get("models", {})
    refused = (gateway or {}).get("refused", {})
    reasons = (gateway or {}).get("refused_reasons", {})
    views = []
    for model in sorted(models, key=lambda m: m.name):
        aliased: dict[str, list[str]] = {}
        for alias, number in model.aliases.items():
            aliased.setdefault(number, []).append(alias)
        own = sorted(by_model.get(model.name, []), key=lambda v: int(v.version), reverse=True)
        rows = tuple(
            VersionRow(
                version=v.version,
                aliases=tuple(sorted(aliased.get(v.version, []))),
                created=datetime.fromtimestamp(v.created_ms / 1000, UTC),
                lineage=Lineage.from_tags(v.tags),
                served=str(served.get(model.name, "")) == v.version,
                verdict=v.tags.get(f"{TAG_PREFIX}monitor.verdict", ""),
            )
            for v in own
        )
        views.append(
            ModelView(
                name=model.name,
                description=model.description,
                aliases=dict(sorted(model.aliases.items())),
                versions=rows,
                served_version=str(served[model.name]) if model.name in served else None,
                refused_version=str(refused[model.name]) if model.name in refused else None,
                refused_reason=reasons.get(model.name),
                history=tuple(alias_events(own)),
            )
        )
    return views


def feature_rows(
    entries: Iterable[FeatureViewEntry], now: datetime | None = None
) -> list[FeatureRow]:
    """Feature views with their age (since the last materialization)."""
    current = now or datetime.now(UTC)
    return [
        FeatureRow(
            entry=e,
            age_seconds=(current - e.last_materialized).total_seconds()
            if e.last_materialized
            else None,
        )
        for e in entries
    ]


def _timed(collect: Callable[[], T], empty: T) -> Section[T]:
    """Run one collector; a stack part that is down or refuses becomes the section's note."""
    started = time.perf_counter()
    try:
        rows = collect()
        error = None
    except (StrataError, httpx.HTTPError, OSError, ValueError, KeyError) as exc:
        rows, error = empty, _one_line(exc)
    return Section(rows, error, (time.perf_counter() - started) * 1000)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class Collector:
    """Gathers an :class:`Overview` of one project's stack (thread-safe, read-only)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._pool = ThreadPoolExecutor(max_workers=5, thread_name_prefix="portal")
        self._listing: tuple[float, str | None] | None = None

    def close(self) -> None:
        """Stop the collector's threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- one collector per section --------------------------------------------------------

    def services(self) -> list[ServiceRow]:
        """``strata stack status``'s rows, whatever the profile."""
        from stratakit.stack.profiles import stack_status

        statuses = stack_status(self.project)
        store_up = any(s.name == "object-store" and s.healthy for s in statuses)
        return service_rows(statuses, self.bucket_listing() if store_up else None)

    def bucket_listing(self) -> str | None:
        """A presigned ``ListObjectsV2`` URL of the project's bucket (``None``: none named).

        Valid an hour and renewed every ten minutes.
        """
        from stratakit.monitor.results import bucket_of, s3_client
        from stratakit.stack.context import project_contract

        if self._listing and time.monotonic() - self._listing[0] < LISTING_RENEW_SECONDS:
            return self._listing[1]
        contract = project_contract(self.project)
        try:
            with s3_client(contract) as client:
                url: str | None = client.generate_presigned_url(
                    "list_objects_v2",
                    Params={"Bucket": bucket_of(contract), "MaxKeys": 1000},
                    ExpiresIn=LISTING_VALID_SECONDS,
                )
        except StrataError:
            url = None
        self._listing = (time.monotonic(), url)
        return url

    def gateway(self) -> dict[str, Any] | None:
        """The gateway's ``GET /v2`` (served and refused versions); ``None`` when down."""
        from stratakit.stack.context import project_contract

        url = project_contract(self.project).get("STRATA_SERVING_URL")
        if not url:
            return None
        try:
            answer = http.get(f"{url}/v2", timeout=5)
        except httpx.HTTPError:
            return None
        return dict(answer.json()) if answer.status_code == 200 else None

    def registry(self) -> tuple[list[RegisteredModel], list[ModelVersion]]:
        """Every registered model and version (two requests, whatever their number)."""
        from stratakit.registry.connection import tracking_client

        with tracking_client(self.project) as api:
            return list(api.registered_models()), api.versions()

    def features(self, versions: list[ModelVersion]) -> list[FeatureRow]:
        """The feature catalog (``strata features list``), with the versions using each view."""
        from stratakit.features.catalog import catalog
        from stratakit.stack.context import project_contract

        contract = project_contract(self.project)
        repo = contract.get("STRATA_FEATURE_REPO")
        if not repo or not (Path(repo) / "feature_store.yaml").is_file():
            return []  # a project without a feature repository: nothing to show
        entries = catalog(contract, [(v.name, v.version, v.tags) for v in versions])
        return feature_rows(entries)

    def pipelines(self) -> Pipelines:
        """``strata flows list`` and the latest runs."""
        from stratakit.flows.runs import list_flows, recent_runs

        return Pipelines(flows=list_flows(self.project), runs=recent_runs(self.project))

    def monitoring(self) -> list[dict[str, Any]]:
        """``strata monitor status``'s rows."""
        from stratakit.monitor.results import served_status

        return served_status(self.project)

    # -- the whole page -------------------------------------------------------------------

    def overview(self) -> Overview:
        """Every section, collected in parallel."""
        from stratakit.stack.profiles import active_profile

        started = time.perf_counter()
        pool = self._pool
        services = pool.submit(_timed, self.services, [])
        gateway = pool.submit(_timed, self.gateway, None)
        registry = pool.submit(_timed, self.registry, ([], []))
        pipelines = pool.submit(_timed, self.pipelines, Pipelines([], []))
        monitoring = pool.submit(_timed, self.monitoring, [])
        found = registry.result()
        models_list, versions = found.rows
        no_features: list[FeatureRow] = []
        features = _timed(lambda: self.features(versions), no_features)
        models = Section(
            model_views(models_list, versions, gateway.result().rows), found.error, found.took_ms
        )
        try:
            profile: str = active_profile(self.project)
        except StrataError as exc:
            profile = f"unknown ({_one_line(exc)})"
        return Overview(
            project=self.project.name,
            profile=profile,
            generated_at=datetime.now(UTC),
            services=services.result(),
            models=models,
            features=features,
            pipelines=pipelines.result(),
            monitoring=monitoring.result(),
            took_ms=(time.perf_counter() - started) * 1000,
        )


def as_json(overview: Overview) -> str:
    """The overview as JSON (``GET /api/overview``): what the page shows, for scripts."""
    from dataclasses import asdict, is_dataclass

    def default(value: object) -> object:
        if isinstance(value, datetime):
            return value.isoformat()
        if is_dataclass(value) and not isinstance(value, type):
            return asdict(value)
        return str(value)

    payload = asdict(overview)
    # The derived properties too: what the page shows beside each row.
    for row, service in zip(payload["services"]["rows"], overview.services.rows, strict=True):
        row["healthy"] = service.healthy
    for row, view in zip(payload["features"]["rows"], overview.features.rows, strict=True):
        row["freshness"] = view.freshness
    return json.dumps(payload, default=default)
