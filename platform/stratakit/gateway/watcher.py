"""The served set, and the watcher that keeps it in step with the registry's alias.

The set is replaced as a whole, in one reference assignment: requests already running keep
the model object they picked up, so a swap fails no request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from stratakit.gateway.loading import LoadedModel

log = logging.getLogger("stratakit.gateway")


class VersionSource(Protocol):
    """Where a version's files are, and the tags to check them with."""

    @property
    def source(self) -> str:
        """The version's artifact URI."""

    @property
    def tags(self) -> Mapping[str, str]:
        """The version's tags (its lineage)."""


class RegistryReads(Protocol):
    """The two registry reads the watcher needs (a :class:`TrackingAPI` has them)."""

    def aliased(self, alias: str) -> dict[str, str]:
        """Model name → the version ``alias`` points to."""

    def version(self, name: str, version: str) -> VersionSource:
        """One version's source and tags."""


class ServedModels:
    """The models being served, by name; replaced as a whole so readers never see a mix."""

    def __init__(self) -> None:
        self._models: dict[str, LoadedModel] = {}
        self.ready = False
        self.refused: dict[str, tuple[str, str]] = {}
        """Model name → (version, why) for an aliased version that could not be served."""

    def get(self, name: str) -> LoadedModel | None:
        """The version currently served under ``name``."""
        return self._models.get(name)

    def all(self) -> dict[str, LoadedModel]:
        """A snapshot of every served model."""
        return dict(self._models)

    def replace(self, models: Mapping[str, LoadedModel]) -> None:
        """Serve exactly ``models`` from now on (one reference assignment)."""
        self._models = dict(models)


Loader = Callable[[str, str, Mapping[str, str], str], LoadedModel]
"""(name, version, tags, source) → a loaded model."""


@dataclass
class WatchEvents:
    """Callbacks for what the watcher did, so metrics need not live here."""

    loaded: Callable[[LoadedModel], None] = lambda model: None
    failed: Callable[[str, str, str], None] = lambda name, version, why: None
    removed: Callable[[str, str], None] = lambda name, version: None
    tagged: Callable[[str, str, Mapping[str, str]], None] = lambda name, version, tags: None
    """A served version's tags, read on load and again every :attr:`RegistryWatcher.
    tag_refresh_seconds` (a drift check tags the version it judged)."""


class RegistryWatcher:
    """Polls the registry for versions holding the alias and keeps ``served`` in step."""

    def __init__(
        self,
        served: ServedModels,
        alias: str,
        poll_seconds: float,
        loader: Loader,
        client_factory: Callable[[], RegistryReads],
        events: WatchEvents | None = None,
    ) -> None:
        self.served = served
        self.alias = alias
        self.poll_seconds = poll_seconds
        self._loader = loader
        self._client_factory = client_factory
        self._events = events or WatchEvents()
        self._failed: dict[tuple[str, str], float] = {}
        self.tag_refresh_seconds = max(10.0, 5 * poll_seconds)
        self._tags_read = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="registry-watcher", daemon=True)

    def start(self) -> None:
        """Begin polling in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop polling; returns once the thread has ended (or after a few seconds)."""
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        client: RegistryReads | None = None
        reachable = True
        while not self._stop.is_set():
            try:
                if client is None:
                    client = self._client_factory()
                self.sync(client)
            except Exception as exc:  # the registry being down must not stop the watcher
                if reachable:  # say it once per outage, not once per poll
                    log.warning("cannot read the model registry (will keep trying): %s", exc)
                reachable = False
            else:
                if not reachable:
                    log.info("the model registry answers again")
                reachable = True
            self._stop.wait(self.poll_seconds)

    def sync(self, client: RegistryReads) -> None:
        """One reconciliation: load what the alias points to, drop what it left."""
        wanted = client.aliased(self.alias)
        current = self.served.all()
        updated = dict(current)
        for name, version in wanted.items():
            served = current.get(name)
            if served is not None and served.version == version:
                self.served.refused.pop(name, None)
                continue
            if time.monotonic() < self._failed.get((name, version), 0.0):
                continue
            try:
                found = client.version(name, version)
                updated[name] = self._loader(name, version, found.tags, found.source)
                self._events.tagged(name, version, found.tags)
            except Exception as exc:
                # Retry later, but not every poll: a broken version stays broken.
                self._failed[(name, version)] = time.monotonic() + max(30.0, self.poll_seconds)
                log.error("not serving %s/%s: %s", name, version, exc)
                self.served.refused[name] = (version, str(exc))
                self._events.failed(name, version, str(exc))
                continue
            self.served.refused.pop(name, None)
            log.info("serving %s version %s", name, version)
            self._events.loaded(updated[name])
            self.served.replace(updated)
        for name in set(self.served.refused) - set(wanted):
            del self.served.refused[name]  # the alias left the refused version
        for name in set(current) - set(wanted):
            removed = updated.pop(name)
            log.info("%s lost the '%s' alias; no longer served", name, self.alias)
            self._events.removed(name, removed.version)
        self.served.replace(updated)
        self.served.ready = True
        self._refresh_tags(client)

    def _refresh_tags(self, client: RegistryReads) -> None:
        """Re-read the served versions' tags now and then (not on every poll)."""
        if time.monotonic() - self._tags_read < self.tag_refresh_seconds:
            return
        self._tags_read = time.monotonic()
        for name, model in self.served.all().items():
            self._events.tagged(name, model.version, client.version(name, model.version).tags)
