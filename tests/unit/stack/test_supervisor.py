"""The rendered supervisord configuration: one program per service, safe paths, no secrets."""

from __future__ import annotations

import configparser
from pathlib import Path

from stratakit.project import Project
from stratakit.stack.context import prepare_context
from stratakit.stack.services import SERVICES, build_specs
from stratakit.stack.supervisor import render_config, socket_path

from ...helpers.projects import make_project


def _parsed(project: Project) -> configparser.RawConfigParser:
    ctx = prepare_context(project)
    text = render_config(project, build_specs(ctx), ctx.python)
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    return parser


def test_one_program_per_service_with_group_stop_and_rotation(project: Project) -> None:
    parser = _parsed(project)
    programs = {s.removeprefix("program:") for s in parser.sections() if s.startswith("program:")}
    assert programs == set(SERVICES)
    for name in programs:
        section = parser[f"program:{name}"]
        assert section["autorestart"] == "true"
        assert section["stopasgroup"] == "true"
        assert section["killasgroup"] == "true"
        assert section["stdout_logfile"].endswith(f"{name}.log")
        assert section["stdout_logfile_maxbytes"] == "10MB"
        assert int(section["stdout_logfile_backups"]) >= 1


def test_control_socket_is_private_and_no_tcp_control_port(project: Project) -> None:
    parser = _parsed(project)
    assert parser["unix_http_server"]["chmod"] == "0700"
    assert "inet_http_server" not in parser.sections()
    assert parser["supervisord"]["umask"] == "077"


def test_no_secret_in_supervisor_config(project: Project) -> None:
    ctx = prepare_context(project)
    text = render_config(project, build_specs(ctx), ctx.python)
    assert ctx.state.secret_key not in text


def test_long_project_paths_get_a_short_socket(tmp_path: Path) -> None:
    deep = tmp_path / ("x" * 120)
    project = Project(root=deep)
    assert len(str(socket_path(project))) <= 100


def test_percent_signs_in_paths_are_escaped(tmp_path: Path) -> None:
    project = make_project(tmp_path / "100%done")
    parser = configparser.ConfigParser()  # interpolating, like supervisor
    ctx = prepare_context(project)
    parser.read_string(render_config(project, build_specs(ctx), ctx.python))
    assert "100%done" in parser["program:mlflow"]["command"]


def test_services_bind_loopback_only(project: Project) -> None:
    ctx = prepare_context(project)
    for spec in build_specs(ctx):
        joined = " ".join(spec.command)
        assert "0.0.0.0" not in joined
        assert spec.url.startswith("http://127.0.0.1:")
        for value in spec.environment.values():
            assert "0.0.0.0" not in value
