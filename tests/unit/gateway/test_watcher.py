"""The served set following the serving alias: first load, swap, refusal with backoff, removal."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pytest

from stratakit.gateway.loading import LoadedModel
from stratakit.gateway.watcher import RegistryWatcher, ServedModels, WatchEvents
from stratakit.registry.tracking_api import ModelVersion

ALIAS = "production"


class InMemoryRegistry:
    """The registry's two reads the watcher makes, over a dict of aliases."""

    def __init__(self) -> None:
        self.aliases: dict[str, dict[str, str]] = {}
        """Model name → alias → version."""

    def point(self, name: str, alias: str, version: str) -> None:
        self.aliases.setdefault(name, {})[alias] = version

    def drop(self, name: str, alias: str) -> None:
        self.aliases.get(name, {}).pop(alias, None)

    def aliased(self, alias: str) -> dict[str, str]:
        return {name: held[alias] for name, held in self.aliases.items() if alias in held}

    def version(self, name: str, version: str) -> ModelVersion:
        return ModelVersion(
            name=name,
            version=version,
            source=f"models:/{name}/{version}",
            run_id="",
            created_ms=0,
            tags={"strata.v": version},
        )


@dataclasses.dataclass
class Recorder:
    """What the watcher reported through its events."""

    loaded: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    failed: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    removed: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def events(self) -> WatchEvents:
        return WatchEvents(
            loaded=lambda model: self.loaded.append((model.name, model.version)),
            failed=lambda name, version, why: self.failed.append((name, version, why)),
            removed=lambda name, version: self.removed.append((name, version)),
        )


class Loader:
    """Loads any version as the test model, except the versions it is told are broken."""

    def __init__(self, model: LoadedModel) -> None:
        self.model = model
        self.broken: set[tuple[str, str]] = set()

    def __call__(
        self, name: str, version: str, tags: Mapping[str, str], source: str
    ) -> LoadedModel:
        assert source == f"models:/{name}/{version}"
        assert tags == {"strata.v": version}
        if (name, version) in self.broken:
            raise RuntimeError(f"{name}/{version} fails on its input example")
        return dataclasses.replace(self.model, name=name, version=version)


@pytest.fixture
def registry() -> InMemoryRegistry:
    return InMemoryRegistry()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def loader(model: LoadedModel) -> Loader:
    return Loader(model)


@pytest.fixture
def served() -> ServedModels:
    return ServedModels()


@pytest.fixture
def watcher(
    served: ServedModels, loader: Loader, registry: InMemoryRegistry, recorder: Recorder
) -> RegistryWatcher:
    return RegistryWatcher(
        served,
        ALIAS,
        poll_seconds=1.0,
        loader=loader,
        client_factory=lambda: registry,  # type: ignore[arg-type,return-value]
        events=recorder.events(),
    )


def sync(watcher: RegistryWatcher, registry: InMemoryRegistry) -> None:
    watcher.sync(registry)  # type: ignore[arg-type]


def versions(served: ServedModels) -> dict[str, str]:
    return {name: model.version for name, model in served.all().items()}


def test_the_first_sync_serves_the_aliased_versions_and_becomes_ready(
    watcher: RegistryWatcher, registry: InMemoryRegistry, served: ServedModels, recorder: Recorder
) -> None:
    registry.point("churn", ALIAS, "1")
    registry.point("churn", "staging", "2")
    registry.point("fraud", "staging", "9")
    assert not served.ready
    sync(watcher, registry)
    assert served.ready
    assert versions(served) == {"churn": "1"}
    assert recorder.loaded == [("churn", "1")]


def test_an_empty_registry_is_ready_and_serves_nothing(
    watcher: RegistryWatcher, registry: InMemoryRegistry, served: ServedModels
) -> None:
    sync(watcher, registry)
    assert served.ready
    assert served.all() == {}


def test_moving_the_alias_swaps_to_the_new_version(
    watcher: RegistryWatcher, registry: InMemoryRegistry, served: ServedModels, recorder: Recorder
) -> None:
    registry.point("churn", ALIAS, "1")
    sync(watcher, registry)
    before = served.get("churn")
    registry.point("churn", ALIAS, "2")
    sync(watcher, registry)
    assert versions(served) == {"churn": "2"}
    assert recorder.loaded == [("churn", "1"), ("churn", "2")]
    assert before is not None and before.version == "1"  # requests holding it are unharmed


def test_an_unchanged_alias_is_not_loaded_again(
    watcher: RegistryWatcher, registry: InMemoryRegistry, served: ServedModels, recorder: Recorder
) -> None:
    registry.point("churn", ALIAS, "1")
    sync(watcher, registry)
    first = served.get("churn")
    sync(watcher, registry)
    assert served.get("churn") is first
    assert recorder.loaded == [("churn", "1")]


def test_a_version_that_cannot_load_is_refused_and_the_previous_one_kept(
    watcher: RegistryWatcher,
    registry: InMemoryRegistry,
    served: ServedModels,
    recorder: Recorder,
    loader: Loader,
) -> None:
    registry.point("churn", ALIAS, "1")
    sync(watcher, registry)
    loader.broken.add(("churn", "2"))
    registry.point("churn", ALIAS, "2")
    sync(watcher, registry)
    assert versions(served) == {"churn": "1"}
    assert served.refused == {"churn": ("2", "churn/2 fails on its input example")}
    assert recorder.failed == [("churn", "2", "churn/2 fails on its input example")]


def test_a_refused_version_is_not_retried_on_the_next_sync(
    watcher: RegistryWatcher,
    registry: InMemoryRegistry,
    served: ServedModels,
    recorder: Recorder,
    loader: Loader,
) -> None:
    registry.point("churn", ALIAS, "1")
    sync(watcher, registry)
    loader.broken.add(("churn", "2"))
    registry.point("churn", ALIAS, "2")
    sync(watcher, registry)
    loader.broken.clear()  # it would load now, but the watcher backs off
    sync(watcher, registry)
    assert versions(served) == {"churn": "1"}
    assert served.refused["churn"][0] == "2"
    assert len(recorder.failed) == 1
    assert recorder.loaded == [("churn", "1")]


def test_moving_the_alias_past_a_refused_version_clears_the_refusal(
    watcher: RegistryWatcher, registry: InMemoryRegistry, served: ServedModels, loader: Loader
) -> None:
    registry.point("churn", ALIAS, "1")
    sync(watcher, registry)
    loader.broken.add(("churn", "2"))
    registry.point("churn", ALIAS, "2")
    sync(watcher, registry)
    registry.point("churn", ALIAS, "3")
    sync(watcher, registry)
    assert versions(served) == {"churn": "3"}
    assert served.refused == {}


def test_removing_the_alias_stops_serving_the_model(
    watcher: RegistryWatcher, registry: InMemoryRegistry, served: ServedModels, recorder: Recorder
) -> None:
    registry.point("churn", ALIAS, "1")
    registry.point("fraud", ALIAS, "4")
    sync(watcher, registry)
    registry.drop("churn", ALIAS)
    sync(watcher, registry)
    assert versions(served) == {"fraud": "4"}
    assert served.get("churn") is None
    assert recorder.removed == [("churn", "1")]


def test_removing_the_alias_from_a_refused_version_forgets_the_refusal(
    watcher: RegistryWatcher, registry: InMemoryRegistry, served: ServedModels, loader: Loader
) -> None:
    loader.broken.add(("churn", "1"))
    registry.point("churn", ALIAS, "1")
    sync(watcher, registry)
    assert served.ready
    assert served.all() == {}
    assert "churn" in served.refused
    registry.drop("churn", ALIAS)
    sync(watcher, registry)
    assert served.refused == {}


def test_served_versions_tags_are_read_on_load_and_again_after_the_refresh_interval(
    served: ServedModels, loader: Loader, registry: InMemoryRegistry
) -> None:
    tagged: list[tuple[str, str]] = []
    watcher = RegistryWatcher(
        served,
        ALIAS,
        poll_seconds=1.0,
        loader=loader,
        client_factory=lambda: registry,  # type: ignore[arg-type,return-value]
        events=WatchEvents(tagged=lambda name, version, tags: tagged.append((name, version))),
    )
    registry.point("churn", ALIAS, "1")
    sync(watcher, registry)
    assert tagged == [("churn", "1"), ("churn", "1")]  # on load, then the first refresh
    sync(watcher, registry)
    assert len(tagged) == 2  # not again before the interval
    watcher.tag_refresh_seconds = 0.0
    sync(watcher, registry)
    assert tagged[-1] == ("churn", "1") and len(tagged) == 3
