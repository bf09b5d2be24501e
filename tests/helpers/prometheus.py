"""Prometheus and promtool from Debian's `prometheus` package, unpacked, never installed.

`apt-get download` fetches the package through Debian's mirror (the one registry these
machines reach) and `dpkg-deb -x` unpacks it into a folder of the test's: no service is
registered or started, nothing is left on the machine. Both binaries need only libc.
:func:`image` puts them in an image that stands in for upstream's (no registry answers).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from stratakit.stack.ports import free_port

from .containers import docker


@dataclass(frozen=True)
class Binaries:
    prometheus: Path
    promtool: Path


def unpack(folder: Path) -> Binaries:
    """Download Debian's package into ``folder`` and unpack its two binaries."""
    folder.mkdir(parents=True, exist_ok=True)
    for attempt in range(2):
        done = subprocess.run(["apt-get", "download", "-q", "prometheus"], cwd=folder,
                              capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
        if done.returncode == 0:
            break
        if attempt == 0:  # a fresh machine may have no package lists yet
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, timeout=600)
    else:
        pytest.fail(f"apt-get download prometheus failed:\n{done.stderr[-2000:]}")
    [package] = folder.glob("prometheus_*.deb")
    subprocess.run(["dpkg-deb", "-x", str(package), str(folder / "root")], check=True)
    binaries = folder / "root" / "usr" / "bin"
    return Binaries(binaries / "prometheus", binaries / "promtool")


#: Upstream's layout: the binaries on PATH, user nobody, data in /prometheus (owned by it,
#: so a named volume is too). The base brings wget, which compose.yaml's check runs.
STANDIN_RECIPE = """\
ARG BASE
FROM ${BASE}
COPY prometheus promtool /usr/local/bin/
RUN install -d -o 65534 -g 65534 /prometheus
USER 65534:65534
ENTRYPOINT ["/usr/local/bin/prometheus"]
"""


def image(workdir: Path, base: str, tag: str) -> str:
    """An image in place of ``prom/prometheus`` made from Debian's binaries on ``base``
    (a Debian image with wget); its ID."""
    binaries = unpack(workdir / "prometheus-package")
    context = workdir / "prometheus-image"
    context.mkdir()
    for binary in (binaries.prometheus, binaries.promtool):
        (context / binary.name).write_bytes(binary.read_bytes())
        (context / binary.name).chmod(0o755)
    (context / "Dockerfile").write_text(STANDIN_RECIPE)
    docker("build", "--quiet", "--build-arg", f"BASE={base}", "--tag", tag, str(context))
    return docker("image", "inspect", "--format", "{{.Id}}", tag)


@contextmanager
def running(binary: Path, config: Path, data: Path) -> Iterator[str]:
    """A Prometheus server on 127.0.0.1 (a free port); stopped by its PID on the way out."""
    port = free_port()
    log = (data.parent / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [str(binary), f"--config.file={config}", f"--storage.tsdb.path={data}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, (data.parent / "prometheus.log").read_text()[-2000:]
            try:
                if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("Prometheus did not become ready in 60 s")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        log.close()
