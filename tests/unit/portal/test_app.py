"""The portal's app without a stack: every section says why it is empty, the page stays
safe (escaped, same-origin only, loopback names only) and the vendored files are the
pinned npm packages' own."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from stratakit.portal.app import POLICY, create_app, templates
from stratakit.portal.views import ModelView, Overview, Pipelines, Section, VersionRow
from stratakit.project import Project
from stratakit.registry.lineage import Lineage

from ...helpers.projects import KIT_ROOT

STATIC = KIT_ROOT / "platform" / "stratakit" / "portal" / "static"


@pytest.fixture
def client(project: Project) -> Iterator[TestClient]:
    # "localhost" is one of the portal's own names; the sampler gets a long interval.
    with TestClient(create_app(project, sample_seconds=3600), base_url="http://localhost") as c:
        yield c


def test_without_a_stack_every_section_says_what_is_missing(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.text.count('class="problem"') == 5  # one per section
    assert "`strata stack up`" in page.text
    for section in ("services", "models", "features", "pipelines", "monitoring"):
        assert f'<section id="{section}"' in page.text
        fragment = client.get(f"/sections/{section}")
        assert fragment.status_code == 200 and fragment.text.lstrip().startswith("<section")


def test_the_overview_json_is_the_page_data(client: TestClient) -> None:
    overview = client.get("/api/overview").json()
    assert overview["project"] == "demo-project"
    assert overview["services"]["rows"] == [] and overview["services"]["error"]
    assert client.get("/api/traffic").json() == {"interval_seconds": 3600, "series": {}}


def test_unknown_sections_hosts_and_methods_are_refused(client: TestClient) -> None:
    assert client.get("/sections/secrets").status_code == 404
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400
    assert client.post("/").status_code == 405
    assert client.get("/healthz").text == "ok"


def test_verify_without_a_stack_says_why_in_the_page(client: TestClient) -> None:
    answer = client.post("/models/churn/versions/1/verify", headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert "could not run" in answer.text and "strata stack up" in answer.text


def test_a_report_that_does_not_exist_is_a_404_with_the_fix(client: TestClient) -> None:
    answer = client.get("/monitoring/churn/versions/1/report")
    assert answer.status_code == 404 and "strata stack up" in answer.text


def test_markup_in_a_description_renders_as_text() -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    model = ModelView(
        name="m<b>", description=hostile, aliases={"production": "1"},
        versions=(VersionRow("1", ("production",), datetime.now(UTC),
                             Lineage.from_tags({"strata.owner": "<i>me</i>"}), True, ""),),
        served_version="1", refused_version=None, refused_reason=None, history=(),
    )  # fmt: skip
    overview = Overview(
        project="p", profile="embedded", generated_at=datetime.now(UTC),
        services=Section([]), models=Section([model]), features=Section([]),
        pipelines=Section(Pipelines([], [])), monitoring=Section([]),
    )  # fmt: skip
    html = (
        templates()
        .get_template("page.html.j2")
        .render(o=overview, verified=None, version="0", sections=("models",))
    )
    assert "<script>alert" not in html and "<img src=x" not in html and "<i>me" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "m&lt;b&gt;" in html


def test_vendored_scripts_are_the_pinned_npm_packages() -> None:
    pinned = json.loads((KIT_ROOT / "package.json").read_text())["devDependencies"]
    lock = json.loads((KIT_ROOT / "package-lock.json").read_text())["packages"]
    vendored = {
        "htmx.org": {"htmx.min.js": "dist/htmx.min.js"},
        "uplot": {"uPlot.iife.min.js": "dist/uPlot.iife.min.js",
                  "uPlot.min.css": "dist/uPlot.min.css"},
    }  # fmt: skip
    for package, files in vendored.items():
        assert lock[f"node_modules/{package}"]["version"] == pinned[package]
        installed = KIT_ROOT / "node_modules" / package
        assert installed.is_dir(), f"run `npm ci` in the kit ({package} is missing)"
        for name, source in files.items():
            ours = hashlib.sha256((STATIC / "vendor" / name).read_bytes()).hexdigest()
            theirs = hashlib.sha256((installed / source).read_bytes()).hexdigest()
            assert ours == theirs, f"static/vendor/{name} is not {package}@{pinned[package]}'s"


def test_in_a_codespace_the_forwarded_name_is_answered_too() -> None:
    from stratakit.portal.app import allowed_hosts

    assert allowed_hosts({}) == ["127.0.0.1", "localhost", "::1"]
    codespace = {"CODESPACES": "true", "GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN": "app.github.dev"}
    assert allowed_hosts(codespace)[-1] == "*.app.github.dev"


def test_a_watched_page_is_answered_from_memory_and_refreshed_behind_it(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from stratakit.portal import app as portal_app

    portal = portal_app.Portal(project, sample_seconds=3600)
    made: list[object] = []
    refreshed = threading.Event()

    def collect() -> object:
        made.append(object())
        if len(made) == 2:
            refreshed.set()
        return made[-1]

    now = [1000.0]
    monkeypatch.setattr(portal.collector, "overview", collect)
    monkeypatch.setattr(portal_app.time, "monotonic", lambda: now[0])
    first = portal.overview()
    assert portal.overview() is first and len(made) == 1  # younger than 2 s: as it is
    now[0] += 5  # stale: the same answer at once, the next collected behind it
    assert portal.overview() is first
    assert refreshed.wait(5) and len(made) == 2
    for _ in range(50):  # the refresh thread stores its result right after collecting
        if portal.overview() is made[1]:
            break
        threading.Event().wait(0.02)
    assert portal.overview() is made[1]
    now[0] += 60  # nobody watched for a minute: collected while the request waits
    assert portal.overview() is made[2] and len(made) == 3
    portal.collector.close()
