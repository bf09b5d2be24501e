"""The two registry reads the gateway needs, over MLflow's REST API.

Polling through this instead of ``MlflowClient`` keeps MLflow (hundreds of MiB, seconds to
import) out of an idle gateway: it is imported only when there is a model to load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from stratakit.errors import RegistryReadError


@dataclass(frozen=True)
class VersionRecord:
    """What loading a version needs: where its files are and the tags to check them with."""

    name: str
    version: str
    source: str
    tags: dict[str, str]


class RegistryReader:
    """Reads aliases and versions from an MLflow tracking server (token or basic auth)."""

    def __init__(
        self,
        tracking_uri: str,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        auth = httpx.BasicAuth(username, password or "") if username else None
        self._http = httpx.Client(
            base_url=tracking_uri.rstrip("/"), headers=headers, auth=auth, timeout=timeout
        )

    def aliased(self, alias: str) -> dict[str, str]:
        """Model name → the version ``alias`` points to, for every model that has it."""
        found: dict[str, str] = {}
        token: str | None = None
        while True:
            params = {"max_results": "200", **({"page_token": token} if token else {})}
            page = self._get("/api/2.0/mlflow/registered-models/search", params)
            for model in page.get("registered_models", []):
                for entry in model.get("aliases", []):
                    if entry.get("alias") == alias:
                        found[str(model["name"])] = str(entry["version"])
            token = page.get("next_page_token")
            if not token:
                return found

    def version(self, name: str, version: str) -> VersionRecord:
        """One version's source and tags."""
        found = self._get(
            "/api/2.0/mlflow/model-versions/get", {"name": name, "version": version}
        ).get("model_version", {})
        tags = {str(t["key"]): str(t.get("value", "")) for t in found.get("tags", [])}
        return VersionRecord(name, version, str(found.get("source", "")), tags)

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            answer = self._http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise RegistryReadError(f"{self._http.base_url}{path}: {exc}") from None
        if answer.status_code != 200:
            raise RegistryReadError(
                f"{self._http.base_url}{path} answered {answer.status_code}: {answer.text[:200]}"
            )
        body = answer.json()
        if not isinstance(body, dict):
            raise RegistryReadError(f"{self._http.base_url}{path} answered {body!r:.200}")
        return body
