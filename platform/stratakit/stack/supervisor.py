"""Driving ``supervisord``: rendering its configuration and talking to it over a unix socket.

The renderer is pure (specs in, text out); only :func:`start_supervisord` touches processes.
"""

from __future__ import annotations

import hashlib
import http.client
import shlex
import subprocess
import tempfile
import time
import xmlrpc.client
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supervisor.xmlrpc import SupervisorTransport

from stratakit.errors import StrataError
from stratakit.project import Project
from stratakit.stack.services import ServiceSpec

#: Unix socket paths longer than this do not fit ``sockaddr_un`` on every platform.
MAX_SOCKET_PATH = 100
LOG_MAX_BYTES = "10MB"
LOG_BACKUPS = 3
#: What supervisor runs for each service (it prepares, then execs the real command).
LAUNCHER_MODULE = "stratakit.stack.service_launcher"


@dataclass(frozen=True)
class ProcessInfo:
    """Supervisor's view of one program."""

    name: str
    state: str
    pid: int
    exit_status: int
    description: str


def config_path(project: Project) -> Path:
    """Where the rendered ``supervisord.conf`` lives."""
    return project.run_dir / "supervisord.conf"


def pid_path(project: Project) -> Path:
    """The daemon's pid file."""
    return project.run_dir / "supervisord.pid"


def socket_path(project: Project) -> Path:
    """The control socket: inside ``.strata/run`` unless that path is too long."""
    preferred = project.run_dir / "supervisor.sock"
    if len(str(preferred)) <= MAX_SOCKET_PATH:
        return preferred
    digest = hashlib.sha256(str(project.root).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"strata-{digest}.sock"


def _ini(value: str) -> str:
    """Escape ``%`` (supervisor expands ``%(name)s`` in every value)."""
    return value.replace("%", "%%")


def render_config(project: Project, specs: Sequence[ServiceSpec], python: str) -> str:
    """The ``supervisord.conf`` for a project's stack (pure function)."""
    sock = socket_path(project)
    lines = [
        "; Rendered by `strata stack up`; edits are overwritten.",
        "[unix_http_server]",
        f"file={_ini(str(sock))}",
        "chmod=0700",
        "",
        "[supervisord]",
        f"logfile={_ini(str(project.logs_dir / 'supervisord.log'))}",
        f"logfile_maxbytes={LOG_MAX_BYTES}",
        f"logfile_backups={LOG_BACKUPS}",
        f"pidfile={_ini(str(pid_path(project)))}",
        f"directory={_ini(str(project.root))}",
        "umask=077",
        "loglevel=info",
        f"identifier=strata-{_ini(project.slug)}",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{_ini(str(sock))}",
    ]
    for spec in specs:
        command = shlex.join([python, "-m", LAUNCHER_MODULE, str(project.root), spec.name])
        log = project.logs_dir / f"{spec.name}.log"
        lines += [
            "",
            f"[program:{spec.name}]",
            f"command={_ini(command)}",
            f"directory={_ini(str(project.root))}",
            "autostart=true",
            "autorestart=true",
            "startsecs=2",
            "startretries=2",
            "stopsignal=TERM",
            f"stopwaitsecs={spec.stop_wait_seconds}",
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            f"stdout_logfile={_ini(str(log))}",
            f"stdout_logfile_maxbytes={LOG_MAX_BYTES}",
            f"stdout_logfile_backups={LOG_BACKUPS}",
        ]
    return "\n".join(lines) + "\n"


class SupervisorClient:
    """A thin XML-RPC client for one project's supervisord."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.socket = socket_path(project)

    @property
    def _proxy(self) -> Any:
        # A fresh connection per call: a transport that saw the daemon die stays unusable.
        transport = SupervisorTransport(None, None, serverurl=f"unix://{self.socket}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    def is_running(self) -> bool:
        """Whether the daemon answers on its socket."""
        if not self.socket.exists():
            return False
        try:
            return bool(self._proxy.supervisor.getState()["statename"] == "RUNNING")
        except (OSError, xmlrpc.client.Error, http.client.HTTPException):
            return False

    def processes(self) -> dict[str, ProcessInfo]:
        """Every program's state and pid."""
        infos = self._proxy.supervisor.getAllProcessInfo()
        return {
            info["name"]: ProcessInfo(
                name=info["name"],
                state=info["statename"],
                pid=int(info["pid"]),
                exit_status=int(info["exitstatus"]),
                description=info["description"],
            )
            for info in infos
        }

    def start_all(self) -> None:
        """Start every program that is not running (no-op for running ones)."""
        self._proxy.supervisor.startAllProcesses(False)

    def daemon_pid(self) -> int:
        """The supervisord process id."""
        return int(self._proxy.supervisor.getPID())

    def shutdown(self) -> None:
        """Stop every program (process groups) and the daemon."""
        try:
            self._proxy.supervisor.shutdown()
        except (OSError, xmlrpc.client.Error, http.client.HTTPException):
            return


def start_supervisord(project: Project, python: str, env: dict[str, str]) -> None:
    """Start the daemon for a rendered configuration; returns once it answers."""
    socket = socket_path(project)
    socket.unlink(missing_ok=True)
    result = subprocess.run(
        [python, "-m", "supervisor.supervisord", "-c", str(config_path(project))],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise StrataError(
            f"supervisord did not start: {detail[0]}. See {project.logs_dir / 'supervisord.log'}."
        )
    client = SupervisorClient(project)
    deadline = time.monotonic() + 15
    while not client.is_running():
        if time.monotonic() > deadline:
            raise StrataError(
                "supervisord started but its control socket does not answer; "
                f"see {project.logs_dir / 'supervisord.log'}."
            )
        time.sleep(0.05)
