"""The compose profile's environments: the containers' env file and the host's contract."""

from __future__ import annotations

import json
import stat

from dotenv import dotenv_values

from stratakit.project import Project
from stratakit.stack.compose.environment import (
    EXTRA_PORTS,
    PORT_VARIABLES,
    compose_environment,
    compose_project_name,
    write_compose_env,
)
from stratakit.stack.context import contract_for, prepare_context
from stratakit.stack.services import SERVICES


def test_both_profiles_end_in_the_same_contract_variables(project: Project) -> None:
    embedded = contract_for(prepare_context(project))
    compose = contract_for(prepare_context(project, extra_ports=EXTRA_PORTS, profile="compose"))
    assert embedded.keys() == compose.keys()
    differ = {"STRATA_FEAST_ONLINE_STORE", "MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD",
              "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"}  # fmt: skip
    same = set(embedded) - differ
    assert {k: embedded[k] for k in same} == {k: compose[k] for k in same}
    assert compose["MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD"] == "false"  # signed for inside
    assert json.loads(embedded["STRATA_FEAST_ONLINE_STORE"])["type"] == "sqlite"
    online = json.loads(compose["STRATA_FEAST_ONLINE_STORE"])
    ctx = prepare_context(project, extra_ports=EXTRA_PORTS, profile="compose")
    redis = f"127.0.0.1:{ctx.port('redis')},password={ctx.state.password('redis')}"
    assert online == {"type": "redis", "connection_string": redis}


def test_the_env_file_is_private_and_complete(project: Project) -> None:
    ctx = prepare_context(project, extra_ports=EXTRA_PORTS, profile="compose")
    path = write_compose_env(ctx)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    values = dotenv_values(path)  # as a dotenv reader (and compose) reads it back
    assert values == compose_environment(ctx)
    for variable in ("STRATA_POSTGRES_PASSWORD", "STRATA_REDIS_PASSWORD"):
        assert len(values[variable] or "") >= 24
    assert values["STRATA_POSTGRES_PASSWORD"] != values["STRATA_REDIS_PASSWORD"]
    assert values["STRATA_S3_SECRET_KEY"] == ctx.state.secret_key
    for name, variable in PORT_VARIABLES.items():
        assert values[variable] == str(ctx.port(name))
    assert json.loads(values["STRATA_FEAST_ONLINE_STORE"] or "")["connection_string"].startswith(
        "redis:6379,password="
    )
    assert values["STRATA_PLATFORM_IMAGE"] == "stratakit/platform:0.1.0"


def test_passwords_and_ports_persist_and_projects_get_their_own_names(
    project: Project,
) -> None:
    first = prepare_context(project, extra_ports=EXTRA_PORTS, profile="compose")
    password = first.state.password("postgres")
    again = prepare_context(project, extra_ports=EXTRA_PORTS, profile="compose")
    assert again.state.password("postgres") == password
    assert again.state.ports == first.state.ports
    assert set(again.state.ports) == {*SERVICES, *EXTRA_PORTS}
    assert compose_project_name(again).startswith(f"strata-{project.slug}-")
    assert again.state.profile == "compose"
