"""The tracking server's REST API (MLflow's ``/api/2.0``), spoken with httpx.

``strata model`` and the serving gateway need a dozen registry calls. Importing MLflow's
client to make them costs 5-8 s per command (its import pulls in plugins, pandas and more);
these calls take milliseconds. The API is MLflow's documented, versioned REST API, the same
on the embedded stack and on a production tracking server (bearer token or basic auth
from MLflow's own variables).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

import httpx

import stratakit.http as http
from stratakit.errors import RegistryReadError, TrackingServerError

#: The scheme of artifacts the tracking server proxies (``--serve-artifacts``).
PROXIED_SCHEME = "mlflow-artifacts:"


@dataclass(frozen=True)
class ModelVersion:
    """A registered version as the registry holds it."""

    name: str
    version: str
    source: str
    run_id: str
    created_ms: int
    tags: dict[str, str]
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegisteredModel:
    """A registered model, its aliases (alias → version) and its tags."""

    name: str
    aliases: dict[str, str]
    tags: dict[str, str] = field(default_factory=dict)
    description: str = ""


def _tags(raw: Any) -> dict[str, str]:
    return {str(t["key"]): str(t.get("value", "")) for t in raw or []}


def _version(raw: Mapping[str, Any]) -> ModelVersion:
    return ModelVersion(
        name=str(raw["name"]),
        version=str(raw["version"]),
        source=str(raw.get("source", "")),
        run_id=str(raw.get("run_id") or ""),
        created_ms=int(raw.get("creation_timestamp") or 0),
        tags=_tags(raw.get("tags")),
        aliases=tuple(sorted(str(a) for a in raw.get("aliases") or ())),
    )


class TrackingAPI:
    """One connection pool to a tracking server; use as a context manager or ``close()``."""

    def __init__(
        self,
        tracking_uri: str,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        auth = httpx.BasicAuth(username, password or "") if username else None
        self.uri = tracking_uri.rstrip("/")
        self._http = http.client(base_url=self.uri, headers=headers, auth=auth, timeout=timeout)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], timeout: float = 30.0) -> TrackingAPI:
        """Configured by ``MLFLOW_TRACKING_URI`` and MLflow's own credential variables."""
        return cls(
            environ["MLFLOW_TRACKING_URI"],
            token=environ.get("MLFLOW_TRACKING_TOKEN") or None,
            username=environ.get("MLFLOW_TRACKING_USERNAME") or None,
            password=environ.get("MLFLOW_TRACKING_PASSWORD") or None,
            timeout=timeout,
        )

    def __enter__(self) -> TrackingAPI:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    # -- reading the registry ------------------------------------------------------------

    def registered_models(self) -> Iterator[RegisteredModel]:
        """Every registered model (all pages)."""
        for page in self._pages("/api/2.0/mlflow/registered-models/search", "registered_models"):
            yield RegisteredModel(
                name=str(page["name"]),
                aliases={str(a["alias"]): str(a["version"]) for a in page.get("aliases") or ()},
                tags=_tags(page.get("tags")),
                description=str(page.get("description") or ""),
            )

    def registered_model(self, name: str) -> RegisteredModel:
        """One registered model."""
        raw = self._get("/api/2.0/mlflow/registered-models/get", {"name": name})
        model = raw.get("registered_model", {})
        return RegisteredModel(
            name=str(model.get("name", name)),
            aliases={str(a["alias"]): str(a["version"]) for a in model.get("aliases") or ()},
            tags=_tags(model.get("tags")),
            description=str(model.get("description") or ""),
        )

    def versions(self, name: str | None = None) -> list[ModelVersion]:
        """Every version of ``name`` (of every model when ``None``), without their aliases."""
        params = {"filter": f"name = '{name}'"} if name else {}
        pages = self._pages("/api/2.0/mlflow/model-versions/search", "model_versions", params)
        return [_version(raw) for raw in pages]

    def version(self, name: str, version: str) -> ModelVersion:
        """One version, with its aliases."""
        raw = self._get("/api/2.0/mlflow/model-versions/get", {"name": name, "version": version})
        return _version(raw["model_version"])

    def version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version ``alias`` points at."""
        raw = self._get("/api/2.0/mlflow/registered-models/alias", {"name": name, "alias": alias})
        return _version(raw["model_version"])

    def aliased(self, alias: str) -> dict[str, str]:
        """Model name → the version ``alias`` points to, for every model that has it."""
        return {
            model.name: model.aliases[alias]
            for model in self.registered_models()
            if alias in model.aliases
        }

    def run_metrics(self, run_id: str) -> dict[str, float]:
        """The latest value of each metric of a run."""
        raw = self._get("/api/2.0/mlflow/runs/get", {"run_id": run_id})
        metrics = raw.get("run", {}).get("data", {}).get("metrics") or ()
        return {str(m["key"]): float(m["value"]) for m in metrics}

    # -- changing the registry -----------------------------------------------------------

    def set_alias(self, name: str, alias: str, version: str) -> None:
        """Point ``alias`` at ``version``."""
        body = {"name": name, "alias": alias, "version": version}
        self._post("/api/2.0/mlflow/registered-models/alias", body)

    def set_model_tag(self, name: str, key: str, value: str) -> None:
        """Set a tag on the registered model."""
        self._post("/api/2.0/mlflow/registered-models/set-tag", {"name": name, "key": key,
                                                                   "value": value})  # fmt: skip

    def set_version_tag(self, name: str, version: str, key: str, value: str) -> None:
        """Set a tag on one version."""
        body = {"name": name, "version": version, "key": key, "value": value}
        self._post("/api/2.0/mlflow/model-versions/set-tag", body)

    # -- artifacts ---------------------------------------------------------------------------

    def download_uri(self, name: str, version: str) -> str:
        """Where a version's files are (``mlflow-artifacts:/…`` when the server proxies)."""
        raw = self._get(
            "/api/2.0/mlflow/model-versions/get-download-uri", {"name": name, "version": version}
        )
        return str(raw["artifact_uri"])

    def download_proxied(self, artifact_uri: str, destination: Path) -> Path:
        """Download a proxied artifact folder into ``destination``; returns the folder."""
        root = PurePosixPath(artifact_uri.removeprefix(PROXIED_SCHEME).lstrip("/"))
        target = destination / root.name
        target.mkdir(parents=True, exist_ok=True)
        for relative in self._artifact_files(root):
            local = target / relative
            local.parent.mkdir(parents=True, exist_ok=True)
            url = f"/api/2.0/mlflow-artifacts/artifacts/{root / relative}"
            with self._http.stream("GET", url) as answer:
                self._check(answer.status_code, url, answer.read() if answer.is_error else b"")
                with local.open("wb") as handle:
                    for chunk in answer.iter_bytes():
                        handle.write(chunk)
        return target

    def run_artifact_uri(self, run_id: str) -> str:
        """Where a run keeps its artifacts (``mlflow-artifacts:/…`` when the server proxies)."""
        raw = self._get("/api/2.0/mlflow/runs/get", {"run_id": run_id})
        return str(raw.get("run", {}).get("info", {}).get("artifact_uri", ""))

    def upload_proxied(self, artifact_uri: str, relative: str, content: bytes) -> str:
        """Store one file under a proxied artifact folder; returns its artifact URI."""
        root = PurePosixPath(artifact_uri.removeprefix(PROXIED_SCHEME).lstrip("/"))
        url = f"/api/2.0/mlflow-artifacts/artifacts/{root / relative}"
        try:
            answer = self._http.put(url, content=content)
        except httpx.HTTPError as exc:
            raise RegistryReadError(f"{self.uri}{url}: {exc}") from None
        self._check(answer.status_code, url, answer.content)
        return f"{artifact_uri.rstrip('/')}/{relative}"

    def _artifact_files(self, root: PurePosixPath, under: str = "") -> Iterator[str]:
        path = root / under if under else root
        listing = self._get("/api/2.0/mlflow-artifacts/artifacts", {"path": str(path)})
        for entry in listing.get("files") or ():
            relative = f"{under}/{entry['path']}" if under else str(entry["path"])
            if entry.get("is_dir"):
                yield from self._artifact_files(root, relative)
            else:
                yield relative

    # -- HTTP ------------------------------------------------------------------------------

    def _pages(
        self, path: str, key: str, params: Mapping[str, str] | None = None
    ) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            query = {"max_results": "200", **(params or {})}
            if token:
                query["page_token"] = token
            page = self._get(path, query)
            yield from page.get(key) or ()
            token = page.get("next_page_token")
            if not token:
                return

    def _get(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        try:
            answer = self._http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise RegistryReadError(f"{self.uri}{path}: {exc}") from None
        return self._json(answer, path)

    def _post(self, path: str, body: Mapping[str, str]) -> dict[str, Any]:
        try:
            answer = self._http.post(path, json=dict(body))
        except httpx.HTTPError as exc:
            raise RegistryReadError(f"{self.uri}{path}: {exc}") from None
        return self._json(answer, path)

    def _json(self, answer: httpx.Response, path: str) -> dict[str, Any]:
        self._check(answer.status_code, path, answer.content)
        body = answer.json()
        if not isinstance(body, dict):
            raise RegistryReadError(f"{self.uri}{path} answered {body!r:.200}")
        return body

    def _check(self, status: int, path: str, content: bytes) -> None:
        if status < 400:
            return
        try:
            error = json.loads(content)
        except ValueError:
            error = {}
        if not isinstance(error, dict):
            error = {}
        message = str(error.get("message") or content[:200].decode(errors="replace"))
        raise TrackingServerError(
            f"{self.uri}{path} answered {status}: {message}",
            code=str(error.get("error_code", "")),
            status=status,
        )
