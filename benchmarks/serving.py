"""Benchmark: the serving gateway against `mlflow models serve`, same registered model, same run.

Both servers run on this machine at the same time and serve the same registered version of
a small scikit-learn pipeline, so the comparison is not skewed by a different model, a
different box or a different hour. A throw-away project's stack (on random free ports)
holds the model; `mlflow models serve` reads it from that stack's registry and object store
through the same environment contract the gateway gets. Before measuring, both must return
the same predictions for the same row, else the numbers would compare different work.

Per concurrency level (1, 8, 32) the servers take turns (mlflow, gateway, gateway over
OIP v2) so slow drift of the machine hits both alike, and each round is repeated; the
tables show medians. A soak of 20,000 requests at concurrency 32 then checks the gateway
stays error-free under sustained load. Targets: >= 5x mlflow's throughput and p99 <= 10 ms
at concurrency 8, and a soak without errors.

A faster peer in the same run: MLServer (``mlserver`` and ``mlserver-sklearn``, pinned, in
a virtualenv of its own made with uv, with the kit's scikit-learn version) serves the same
registered version's estimator (exported with joblib, the format its runtime loads) over
the Open Inference Protocol v2 with its default
settings (debug logging off), and takes its turn at every level with the same load
generator, after the same first-prediction equality check. Targets at concurrency 8: the
gateway's v2 endpoint >= 1.5x MLServer's throughput, with p99 <= 5 ms.

Batches: a 1,000-row request to the gateway's Open Inference Protocol endpoint at concurrency
8, as JSON tensors and as binary tensors (the binary tensor data extension, both ways, as
the protocol's client libraries send by default), taking turns; both must predict what
mlflow predicts for the same rows. Target: the binary form is faster.

Missing a target still exits 0 (this is a measurement); a setup failure exits 1.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import psutil
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from stratakit.project import Project
from stratakit.stack.context import contract_for, load_context
from stratakit.stack.lifecycle import log_file, start_stack, stop_stack
from stratakit.stack.ports import free_port
from stratakit.stack.processes import find_marked, terminate
from stratakit.stack.services import SERVICES
from stratakit.stack.state import new_state, save_state

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is not a package
from loadgen import LoadResult, run_load

MODEL_NAME = "bench-churn"
ALIAS = "production"
LEVELS = (1, 8, 32)
RATIO_TARGET = 5.0
RATIO_LEVEL = 8
P99_TARGET_MS = 10.0
PEER_RATIO_TARGET = 1.5
PEER_P99_TARGET_MS = 5.0
#: The peer server, pinned; it gets the kit's own scikit-learn version to load the model.
#: MLServer 1.7.1's inference workers call ``asyncio.get_event_loop()`` before a loop
#: exists, which uvloop 0.22 refuses (the workers die at start), hence the uvloop pin.
MLSERVER = ("mlserver==1.7.1", "mlserver-sklearn==1.7.1", "uvloop<0.22")
SOAK_CONCURRENCY = 32
BATCH_LEVEL = 8
READY_TIMEOUT_S = 120.0
ROW = {"tenure": 0.5, "spend": 1.2, "tickets": 2}
INVOCATIONS_BODY = json.dumps({"dataframe_records": [ROW]}).encode()
V2_BODY = json.dumps(
    {
        "inputs": [
            {"name": "tenure", "shape": [1], "datatype": "FP64", "data": [ROW["tenure"]]},
            {"name": "spend", "shape": [1], "datatype": "FP64", "data": [ROW["spend"]]},
            {"name": "tickets", "shape": [1], "datatype": "INT64", "data": [ROW["tickets"]]},
        ]
    }
).encode()
#: The same row for MLServer's scikit-learn runtime: ``content_type: pd`` makes the named
#: tensors a DataFrame (the pipeline was fit on one), and ``predict_proba`` is asked for.
MLSERVER_BODY = json.dumps(
    {
        "parameters": {"content_type": "pd"},
        "inputs": json.loads(V2_BODY)["inputs"],
        "outputs": [{"name": "predict_proba"}],
    }
).encode()

#: Runs in a fresh interpreter configured by the contract alone, as a user's training code
#: would: proves the registered model needs nothing from this process's environment.
REGISTER_CODE = textwrap.dedent(
    """
    import json, sys, tempfile
    from pathlib import Path

    import mlflow
    import numpy as np
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from stratakit.registry.lineage import tree_sha256

    name = sys.argv[1]
    rng = np.random.default_rng(0)
    n = 500
    X = pd.DataFrame(
        {
            "tenure": rng.uniform(0.0, 5.0, n),
            "spend": rng.gamma(2.0, 1.0, n),
            "tickets": rng.poisson(2.0, n).astype("int64"),
        }
    )
    noise = rng.normal(0.0, 1.0, n)
    y = (0.5 * X["spend"] + 0.4 * X["tickets"] - 0.8 * X["tenure"] + noise > 0).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    mlflow.set_experiment("serving-benchmark")
    with mlflow.start_run():
        mlflow.log_metric("auc", 0.9)  # the project's quality gate reads it at promotion
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(X, model.predict_proba(X)),
            input_example=X.head(3),
            pyfunc_predict_fn="predict_proba",
            pip_requirements=["scikit-learn"],
        )
    with tempfile.TemporaryDirectory() as tmp:
        local = mlflow.artifacts.download_artifacts(info.model_uri, dst_path=tmp)
        digest = tree_sha256(Path(local))
    version = mlflow.register_model(info.model_uri, name, tags={"strata.artifact_sha256": digest})
    print(json.dumps({"version": version.version}))
    """
)

PYPROJECT = """\
[project]
name = "{name}"
version = "0"

[tool.strata.serving]
poll_seconds = 1

[tool.strata.quality_gate]
auc = {{ min = 0.5 }}
"""


class SetupError(Exception):
    """The benchmark could not be set up (or the servers disagree): nothing to measure."""


@dataclass(frozen=True)
class Sample:
    """What one load run leaves for the tables and the JSON report (latencies dropped)."""

    concurrency: int
    requests: int
    errors: int
    elapsed_s: float
    throughput: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    statuses: dict[int, int]

    @classmethod
    def of(cls, result: LoadResult) -> Sample:
        """Summarise a :class:`LoadResult`."""
        return cls(
            concurrency=result.concurrency,
            requests=result.requests,
            errors=result.errors,
            elapsed_s=result.elapsed_s,
            throughput=result.throughput(),
            p50_ms=result.percentile_ms(50),
            p90_ms=result.percentile_ms(90),
            p99_ms=result.percentile_ms(99),
            p999_ms=result.percentile_ms(99.9),
            max_ms=result.percentile_ms(100),
            statuses=dict(result.statuses),
        )


@dataclass
class Series:
    """Every round's sample of one server at one concurrency; the tables use medians."""

    samples: list[Sample] = field(default_factory=list)

    def median(self, pick: Callable[[Sample], float]) -> float:
        """Median over rounds of one figure (NaN when nothing was measured)."""
        values = [pick(s) for s in self.samples]
        return statistics.median(values) if values else float("nan")

    @property
    def errors(self) -> int:
        """Failed requests summed over rounds: one failure anywhere is worth seeing."""
        return sum(s.errors for s in self.samples)


@dataclass(frozen=True)
class Target:
    """One target and whether the run met it."""

    name: str
    wanted: str
    got: str
    met: bool


@dataclass(frozen=True)
class Endpoints:
    """The four URLs under test (same model, same row)."""

    mlflow: str
    gateway: str
    gateway_v2: str
    mlserver: str


@dataclass(frozen=True)
class BatchBodies:
    """One batch of rows as an OIP v2 request, in JSON and in the binary extension's form."""

    rows: int
    json: bytes
    binary: bytes
    header_length: int
    """The binary body's JSON header length (the Inference-Header-Content-Length value)."""
    records: dict[str, list[Any]]

    @property
    def binary_headers(self) -> dict[str, str]:
        """What a binary request adds to the HTTP headers."""
        return {"Inference-Header-Content-Length": str(self.header_length)}


TYPES = {"tenure": "FP64", "spend": "FP64", "tickets": "INT64"}


def batch_bodies(rows: int) -> BatchBodies:
    """``rows`` rows drawn like the training data, framed both ways (binary outputs too)."""
    rng = np.random.default_rng(7)
    columns = {
        "tenure": rng.uniform(0.0, 5.0, rows),
        "spend": rng.gamma(2.0, 1.0, rows),
        "tickets": rng.poisson(2.0, rows).astype("<i8"),
    }
    as_json = {
        "inputs": [
            {"name": c, "shape": [rows], "datatype": t, "data": columns[c].tolist()}
            for c, t in TYPES.items()
        ]
    }
    raw = [columns[c].astype(columns[c].dtype.newbyteorder("<")).tobytes() for c in TYPES]
    header = json.dumps(
        {
            "inputs": [
                {"name": c, "shape": [rows], "datatype": t,
                 "parameters": {"binary_data_size": len(blob)}}
                for (c, t), blob in zip(TYPES.items(), raw, strict=True)
            ],
            "parameters": {"binary_data_output": True},
        }
    ).encode()  # fmt: skip
    return BatchBodies(
        rows=rows,
        json=json.dumps(as_json).encode(),
        binary=header + b"".join(raw),
        header_length=len(header),
        records={c: v.tolist() for c, v in columns.items()},
    )


# --- small HTTP helpers (loopback only; the load itself goes through loadgen) -------------


def http_call(url: str, body: bytes | None = None, timeout: float = 10.0) -> tuple[int, Any]:
    """GET (or POST a JSON ``body``); returns status and the decoded JSON body (or text)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request("GET" if body is None else "POST", path, body=body, headers=headers)
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, raw.decode(errors="replace")


def http_post_raw(
    url: str, body: bytes, headers: Mapping[str, str], timeout: float = 30.0
) -> tuple[int, dict[str, str], bytes]:
    """POST ``body``; returns status, lower-case response headers and the raw body."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        conn.request("POST", parts.path, body=body, headers=dict(headers))
        response = conn.getresponse()
        raw = response.read()
        found = {name.lower(): value for name, value in response.getheaders()}
    finally:
        conn.close()
    return response.status, found, raw


def binary_outputs(headers: Mapping[str, str], raw: bytes) -> np.ndarray:
    """Every output of a binary-framed v2 response, concatenated as one float array."""
    length = int(headers["inference-header-content-length"])
    header = json.loads(raw[:length])
    values, offset = [], length
    for output in header["outputs"]:
        size = output["parameters"]["binary_data_size"]
        dtype = {"FP64": "<f8", "FP32": "<f4", "INT64": "<i8"}[output["datatype"]]
        values.append(np.frombuffer(raw[offset : offset + size], dtype=dtype).astype(float))
        offset += size
    if offset != len(raw):
        raise SetupError(f"the binary response has {len(raw) - offset} stray bytes")
    return np.concatenate(values)


def wait_for(url: str, timeout: float, alive: Callable[[], bool] = lambda: True) -> float:
    """Poll ``url`` until it answers 200; returns seconds waited, raises on timeout/death.

    ``alive`` lets the caller stop waiting for a server process that already exited.
    """
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not alive():
            raise SetupError(f"the server behind {url} exited before it became ready")
        try:
            if http_call(url, timeout=2.0)[0] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.25)
    raise SetupError(f"{url} did not answer 200 within {timeout:.0f} s")


def tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file, to show why a server did not come up."""
    if not path.exists():
        return f"({path} does not exist)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --- the stack, the model and the mlflow server --------------------------------------------


def client_env(contract: Mapping[str, str]) -> dict[str, str]:
    """A clean client environment: PATH (with this venv's bin), HOME, locale, the contract.

    Nothing else of this shell's AWS/MLflow settings leaks in, so both servers and the
    registration script see exactly what a user of the stack would.
    """
    base = {k: v for k, v in os.environ.items() if k in {"HOME", "LANG", "TMPDIR"}}
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join([venv_bin, os.environ.get("PATH", "")])
    return {**base, **contract, "PATH": path, "MLFLOW_DISABLE_TELEMETRY": "true"}


@contextmanager
def running_stack(parent: Path, console: Console) -> Iterator[tuple[Project, dict[str, str]]]:
    """A throw-away project's stack on random free ports; stopped (by PID) on the way out.

    Random ports leave the default ones to whoever else uses this machine.
    """
    root = parent / "serving-bench"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT.format(name="serving-bench"))
    project = Project(root=root.resolve())
    state = new_state(project.slug, project.bucket)
    state.ports = {name: free_port() for name in SERVICES}
    save_state(project.state_file, state)
    try:
        with console.status("starting the stack") as status:
            start_stack(project, lambda name, s: status.update(f"starting the stack: {name} {s}"))
        contract = contract_for(load_context(project))
        console.print(f"stack up: gateway at {contract['STRATA_SERVING_URL']}")
        yield project, contract
    finally:
        with console.status("stopping the stack"):
            stop_stack(project)
            leftovers = find_marked(state.project_id)
            terminate(leftovers)
        if leftovers:
            console.print(f"[yellow]killed leftover stack processes {[p.pid for p in leftovers]}")
        console.print("stack stopped")


def register_and_promote(project: Project, contract: Mapping[str, str], console: Console) -> str:
    """Register the model from a fresh interpreter, then promote it with the real CLI."""
    env = client_env(contract)
    with console.status("training and registering the model"):
        done = subprocess.run(
            [sys.executable, "-c", REGISTER_CODE, MODEL_NAME],
            env=env,
            cwd=project.root,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    if done.returncode != 0:
        raise SetupError(
            f"registering the model failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    version = str(json.loads(done.stdout.strip().splitlines()[-1])["version"])
    with console.status(f"promoting {MODEL_NAME} v{version} to {ALIAS}"):
        promoted = subprocess.run(
            [sys.executable, "-m", "stratakit.cli", "model", "promote", MODEL_NAME, version,
             "--to", ALIAS, "-m", "bench", "--project-dir", str(project.root)],
            env=env, capture_output=True, text=True, timeout=120, check=False,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    if promoted.returncode != 0:
        raise SetupError(f"promotion failed:\n{promoted.stdout[-3000:]}{promoted.stderr[-3000:]}")
    console.print(f"registered {MODEL_NAME} v{version} and promoted it to {ALIAS}")
    return version


def wait_for_gateway(project: Project, contract: Mapping[str, str], console: Console) -> None:
    """Wait until the gateway has picked the promoted version up from the registry."""
    url = f"{contract['STRATA_SERVING_URL']}/v2/models/{MODEL_NAME}"
    with console.status("waiting for the gateway to load the model"):
        try:
            seconds = wait_for(url, READY_TIMEOUT_S)
        except SetupError as exc:
            log = tail(log_file(project, "gateway"))
            raise SetupError(f"{exc}\n--- gateway.log ---\n{log}") from None
    console.print(f"gateway serves {MODEL_NAME} ({seconds:.1f} s after promotion)")


@contextmanager
def server_tree(
    label: str,
    command: Sequence[str],
    env: Mapping[str, str],
    log_path: Path,
    ready_url: str,
    console: Console,
) -> Iterator[None]:
    """Run a server until the block ends; its whole process tree is killed by PID after.

    ``mlflow models serve`` runs its scoring app in a uvicorn child, and MLServer its
    inference workers, that survive the parent's death. The tree is noted once the server
    is up: should the parent die first, its orphaned children are still known.
    """
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(command),
            env=dict(env),
            cwd=log_path.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C reaches us only; the finally block stops it
        )
    parent = psutil.Process(process.pid)  # Popen succeeded: the pid exists (maybe a zombie)
    tree: dict[int, psutil.Process] = {parent.pid: parent}

    def note_tree() -> None:
        with contextlib.suppress(psutil.NoSuchProcess):
            tree.update((child.pid, child) for child in parent.children(recursive=True))

    try:
        with console.status(f"starting {label}"):
            try:
                seconds = wait_for(ready_url, READY_TIMEOUT_S, lambda: process.poll() is None)
            except SetupError as exc:
                raise SetupError(f"{exc}\n--- {log_path.name} ---\n{tail(log_path)}") from None
        note_tree()
        console.print(f"{label} ready ({seconds:.1f} s)")
        yield
    finally:
        note_tree()
        terminate([proc for proc in tree.values() if proc.is_running()])
        process.wait(timeout=10)
        console.print(f"{label} stopped (pids {sorted(tree)})")


@contextmanager
def mlflow_server(contract: Mapping[str, str], logs: Path, console: Console) -> Iterator[str]:
    """`mlflow models serve` of the production alias; yields its base URL."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "mlflow"), "models", "serve",
        "-m", f"models:/{MODEL_NAME}@{ALIAS}", "--env-manager", "local",
        "-h", "127.0.0.1", "-p", str(port),
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    log_path = logs / "mlflow-serve.log"
    with server_tree(
        "mlflow models serve", command, client_env(contract), log_path, f"{url}/ping", console
    ):
        yield url


def mlserver_environment(parent: Path, console: Console) -> Path:
    """A virtualenv with MLServer and the kit's scikit-learn; returns its ``bin`` folder."""
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    venv = parent / "mlserver-venv"
    wanted = [*MLSERVER, f"scikit-learn=={installed_version('scikit-learn')}"]
    with console.status(f"installing {', '.join(wanted)} into a virtualenv of its own"):
        for step in (
            [uv, "venv", "--quiet", "--python", f"{sys.version_info[0]}.{sys.version_info[1]}",
             str(venv)],
            [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), *wanted],
        ):  # fmt: skip
            done = subprocess.run(step, capture_output=True, text=True, timeout=600, check=False)
            if done.returncode != 0:
                raise SetupError(f"installing MLServer failed: {' '.join(step[:3])}\n{done.stderr}")
    console.print(f"MLServer installed: {', '.join(wanted)}")
    return venv / "bin"


#: The served version's estimator, as MLServer's scikit-learn runtime reads one: MLflow
#: stores it as skops, MLServer loads joblib; the parity check proves it is the same model.
EXPORT_CODE = (
    "import joblib, mlflow.sklearn, sys; "
    "joblib.dump(mlflow.sklearn.load_model(sys.argv[1]), sys.argv[2])"
)


@contextmanager
def mlserver(
    contract: Mapping[str, str], work: Path, console: Console, workers: int | None = None
) -> Iterator[str]:
    """MLServer serving the registered version's estimator; yields its v2 infer URL.

    ``workers`` sets its ``parallel_workers`` (0: inference in the server process); by
    default MLServer's own default (one inference worker process) is kept.
    """
    bin_dir = mlserver_environment(work, console)
    folder = work / "mlserver-model"
    folder.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", EXPORT_CODE, f"models:/{MODEL_NAME}@{ALIAS}",
         str(folder / "model.joblib")],
        env=client_env(contract), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SetupError(f"exporting the model for MLServer failed:\n{done.stderr[-3000:]}")
    port = free_port()
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "http_port": port,
        "grpc_port": free_port(),
        "metrics_port": free_port(),
        "debug": False,
    }
    if workers is not None:
        settings["parallel_workers"] = workers
    (folder / "settings.json").write_text(json.dumps(settings))
    (folder / "model-settings.json").write_text(
        json.dumps(
            {
                "name": MODEL_NAME,
                "implementation": "mlserver_sklearn.SKLearnModel",
                "parameters": {"uri": "./model.joblib", "version": "1"},
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if k in {"HOME", "LANG", "TMPDIR"}}
    env["PATH"] = os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")])
    url = f"http://127.0.0.1:{port}/v2/models/{MODEL_NAME}"
    with server_tree(
        "MLServer", [str(bin_dir / "mlserver"), "start", str(folder)], env,
        work / "mlserver.log", f"{url}/ready", console,
    ):  # fmt: skip
        yield f"{url}/infer"


# --- measuring --------------------------------------------------------------------------


def flat(values: Any) -> np.ndarray:
    """Numbers of any nesting as one flat float array."""
    return np.asarray(values, dtype=float).ravel()


def check_parity(endpoints: Endpoints, console: Console) -> list[float]:
    """Every server (and both of the gateway's protocols) must agree on the same row."""
    answers: dict[str, np.ndarray] = {}
    for label, url, body in (
        ("mlflow", endpoints.mlflow, INVOCATIONS_BODY),
        ("gateway", endpoints.gateway, INVOCATIONS_BODY),
        ("gateway v2", endpoints.gateway_v2, V2_BODY),
        ("MLServer", endpoints.mlserver, MLSERVER_BODY),
    ):
        status, payload = http_call(url, body)
        if status != 200:
            raise SetupError(f"{label} answered {status}: {payload}")
        if label in ("gateway v2", "MLServer"):
            answers[label] = np.concatenate([flat(o["data"]) for o in payload["outputs"]])
        else:
            answers[label] = flat(payload["predictions"])
    reference = answers["mlflow"]
    for label, got in answers.items():
        if got.shape != reference.shape or not np.allclose(got, reference, rtol=1e-9, atol=1e-12):
            raise SetupError(f"{label} predicts {got.tolist()} but mlflow {reference.tolist()}")
    console.print(f"same predictions from all four: {reference.tolist()}")
    return [float(v) for v in reference]


def check_batch_parity(endpoints: Endpoints, bodies: BatchBodies, console: Console) -> None:
    """The batch's JSON and binary forms must predict what mlflow predicts for its rows."""
    split = {"dataframe_split": {"columns": list(TYPES), "data": [
        list(row) for row in zip(*bodies.records.values(), strict=True)]}}  # fmt: skip
    status, payload = http_call(endpoints.mlflow, json.dumps(split).encode())
    if status != 200:
        raise SetupError(f"mlflow answered {status} to the batch: {str(payload)[:500]}")
    reference = flat(payload["predictions"])
    status, payload = http_call(endpoints.gateway_v2, bodies.json)
    if status != 200:
        raise SetupError(f"the gateway answered {status} to the JSON batch: {str(payload)[:500]}")
    answers = {"json": np.concatenate([flat(o["data"]) for o in payload["outputs"]])}
    status, headers, raw = http_post_raw(endpoints.gateway_v2, bodies.binary, bodies.binary_headers)
    if status != 200 or headers.get("content-type") != "application/octet-stream":
        raise SetupError(f"the gateway answered {status} to the binary batch: {raw[:500]!r}")
    answers["binary"] = binary_outputs(headers, raw)
    for label, got in answers.items():
        if got.shape != reference.shape or not np.allclose(got, reference, rtol=1e-9, atol=1e-12):
            raise SetupError(f"the {label} batch's predictions differ from mlflow's")
    console.print(
        f"{bodies.rows}-row batch: same predictions as JSON, as binary and from mlflow "
        f"(bodies {len(bodies.json) / 1024:.0f} KiB JSON, {len(bodies.binary) / 1024:.0f} KiB "
        "binary)"
    )


def measure_batches(
    endpoints: Endpoints, bodies: BatchBodies, args: argparse.Namespace, console: Console
) -> dict[str, Series]:
    """JSON and binary batches at concurrency 8, taking turns, ``args.rounds`` times."""
    plan: tuple[tuple[str, bytes, dict[str, str]], ...] = (
        ("json", bodies.json, {}),
        ("binary", bodies.binary, bodies.binary_headers),
    )
    series = {label: Series() for label, *_ in plan}
    for round_index in range(args.rounds):
        for label, body, headers in plan:
            with console.status(f"round {round_index + 1}: {bodies.rows}-row {label} batches"):
                result = run_load(
                    endpoints.gateway_v2, body, concurrency=BATCH_LEVEL, headers=headers,
                    requests=args.batch_requests, warmup=min(args.warmup, 50),
                    timeout_s=30.0,
                )  # fmt: skip
            sample = Sample.of(result)
            series[label].samples.append(sample)
            console.print(
                f"  round {round_index + 1} {label:<6} batches c={BATCH_LEVEL} "
                f"{sample.throughput:7.0f} req/s  p50 {sample.p50_ms:6.2f} ms  "
                f"p99 {sample.p99_ms:6.2f} ms  errors {sample.errors}"
            )
    return series


def measure(
    endpoints: Endpoints, args: argparse.Namespace, console: Console
) -> dict[str, dict[int, Series]]:
    """Rounds x levels x servers, interleaved; returns every sample by server and level."""
    plan: list[tuple[str, str, bytes, int]] = [
        ("mlflow", endpoints.mlflow, INVOCATIONS_BODY, args.mlflow_requests),
        ("gateway", endpoints.gateway, INVOCATIONS_BODY, args.requests),
        ("gateway_v2", endpoints.gateway_v2, V2_BODY, args.requests),
        ("mlserver", endpoints.mlserver, MLSERVER_BODY, args.mlserver_requests),
    ]
    series: dict[str, dict[int, Series]] = {
        label: {c: Series() for c in LEVELS} for label, *_ in plan
    }
    for round_index in range(args.rounds):
        for concurrency in LEVELS:
            for label, url, body, requests in plan:
                with console.status(
                    f"round {round_index + 1}/{args.rounds}: {label} at concurrency "
                    f"{concurrency}, {requests} requests"
                ):
                    result = run_load(
                        url, body, concurrency=concurrency, requests=requests, warmup=args.warmup
                    )
                sample = Sample.of(result)
                series[label][concurrency].samples.append(sample)
                console.print(
                    f"  round {round_index + 1} {label:<10} c={concurrency:<2} "
                    f"{sample.throughput:8.0f} req/s  p50 {sample.p50_ms:6.2f} ms  "
                    f"p99 {sample.p99_ms:6.2f} ms  errors {sample.errors}"
                )
    return series


def soak(endpoints: Endpoints, requests: int, console: Console) -> Sample:
    """Sustained load on the gateway: any error or creeping latency shows up here."""
    with console.status(f"soak: {requests} requests at concurrency {SOAK_CONCURRENCY}"):
        result = run_load(
            endpoints.gateway, INVOCATIONS_BODY, concurrency=SOAK_CONCURRENCY, requests=requests
        )
    return Sample.of(result)


# --- reporting --------------------------------------------------------------------------


def ms(value: float) -> str:
    """A latency in a sentence."""
    return f"{value:.2f} ms"


def new_table(title: str, columns: tuple[str, ...]) -> Table:
    """A table narrow enough for the 80 columns rich assumes when output is not a terminal."""
    table = Table(
        title=title,
        caption="conc. = concurrent keep-alive connections",
        box=box.SIMPLE_HEAD,
        padding=(0, 0),
    )
    for column in columns:
        table.add_column(column, justify="right")
    return table


@dataclass(frozen=True)
class Peer:
    """Another server in the comparison tables, and the gateway endpoint it is held against."""

    key: str
    """Its runs in the measured series."""
    name: str
    label: str
    """Its column headings."""
    short: str
    """Its abbreviation in the ratio and error columns."""
    route: str
    gateway_key: str
    """The gateway's runs on the same route."""


MLFLOW_PEER = Peer("mlflow", "mlflow models serve", "mlflow", "ml", "/invocations", "gateway")
MLSERVER_PEER = Peer("mlserver", "MLServer", "MLServer", "ms", "OIP v2 /infer", "gateway_v2")


def comparison_table(series: dict[str, dict[int, Series]], rounds: int, peer: Peer) -> Table:
    """Medians per concurrency: another server against the gateway, same body, same model."""
    key, label, short, gateway_key = peer.key, peer.label, peer.short, peer.gateway_key
    table = new_table(
        f"gateway vs {peer.name}, {peer.route} (median of {rounds})",
        ("conc.", f"{label}\nreq/s", f"{label}\np50 ms", f"{label}\np99 ms", "gateway\nreq/s",
         "gateway\np50 ms", "gateway\np99 ms", f"ratio\ngw/{short}", f"errors\n{short}/gw"),
    )  # fmt: skip
    for c in LEVELS:
        m, g = series[key][c], series[gateway_key][c]
        ratio = g.median(lambda s: s.throughput) / m.median(lambda s: s.throughput)
        table.add_row(
            str(c),
            f"{m.median(lambda s: s.throughput):.0f}",
            f"{m.median(lambda s: s.p50_ms):.2f}",
            f"{m.median(lambda s: s.p99_ms):.2f}",
            f"{g.median(lambda s: s.throughput):.0f}",
            f"{g.median(lambda s: s.p50_ms):.2f}",
            f"{g.median(lambda s: s.p99_ms):.2f}",
            f"{ratio:.1f}x",
            f"{m.errors}/{g.errors}",
        )
    return table


def v2_table(series: dict[str, dict[int, Series]], rounds: int) -> Table:
    """The gateway over Open Inference Protocol v2, against its own /invocations."""
    table = new_table(
        f"gateway, Open Inference Protocol v2 /infer (median of {rounds})",
        ("conc.", "req/s", "p50 ms", "p99 ms", "req/s vs\n/invocations", "errors"),
    )
    for c in LEVELS:
        v, g = series["gateway_v2"][c], series["gateway"][c]
        relative = v.median(lambda s: s.throughput) / g.median(lambda s: s.throughput)
        table.add_row(
            str(c),
            f"{v.median(lambda s: s.throughput):.0f}",
            f"{v.median(lambda s: s.p50_ms):.2f}",
            f"{v.median(lambda s: s.p99_ms):.2f}",
            f"{relative:.2f}x",
            str(v.errors),
        )
    return table


def batch_table(batches: dict[str, Series], bodies: BatchBodies, rounds: int) -> Table:
    """JSON against binary tensors for one batch size, on the gateway's v2 endpoint."""
    table = new_table(
        f"gateway v2 /infer, {bodies.rows}-row batches at concurrency {BATCH_LEVEL} "
        f"(median of {rounds})",
        ("tensors", "body\nKiB", "req/s", "rows/s", "p50 ms", "p99 ms", "vs\nJSON", "errors"),
    )
    sizes = {"json": len(bodies.json), "binary": len(bodies.binary)}
    json_rate = batches["json"].median(lambda s: s.throughput)
    for label, runs in batches.items():
        rate = runs.median(lambda s: s.throughput)
        table.add_row(
            label,
            f"{sizes[label] / 1024:.0f}",
            f"{rate:.0f}",
            f"{rate * bodies.rows:,.0f}",
            f"{runs.median(lambda s: s.p50_ms):.2f}",
            f"{runs.median(lambda s: s.p99_ms):.2f}",
            f"{rate / json_rate:.2f}x",
            str(runs.errors),
        )
    return table


def judge(
    series: dict[str, dict[int, Series]],
    soaked: Sample,
    soak_requests: int,
    batches: dict[str, Series],
) -> list[Target]:
    """The six targets, each met or not."""
    m, g = series["mlflow"][RATIO_LEVEL], series["gateway"][RATIO_LEVEL]
    peer, v2 = series["mlserver"][RATIO_LEVEL], series["gateway_v2"][RATIO_LEVEL]
    peer_ratio = v2.median(lambda s: s.throughput) / peer.median(lambda s: s.throughput)
    v2_p99 = v2.median(lambda s: s.p99_ms)
    ratio = g.median(lambda s: s.throughput) / m.median(lambda s: s.throughput)
    p99 = g.median(lambda s: s.p99_ms)
    json_rate = batches["json"].median(lambda s: s.throughput)
    binary_rate = batches["binary"].median(lambda s: s.throughput)
    return [
        Target(
            f"throughput ratio at concurrency {RATIO_LEVEL}",
            f">= {RATIO_TARGET:.0f}x",
            f"{ratio:.1f}x",
            ratio >= RATIO_TARGET,
        ),
        Target(
            f"gateway p99 at concurrency {RATIO_LEVEL}",
            f"<= {P99_TARGET_MS:.0f} ms",
            ms(p99),
            p99 <= P99_TARGET_MS,
        ),
        Target(
            f"gateway v2 vs MLServer throughput at concurrency {RATIO_LEVEL}",
            f">= {PEER_RATIO_TARGET:.1f}x",
            f"{peer_ratio:.1f}x",
            peer_ratio >= PEER_RATIO_TARGET,
        ),
        Target(
            f"gateway v2 p99 at concurrency {RATIO_LEVEL} (beside MLServer)",
            f"<= {PEER_P99_TARGET_MS:.0f} ms",
            ms(v2_p99),
            v2_p99 <= PEER_P99_TARGET_MS,
        ),
        Target(
            f"soak: {soak_requests} requests at concurrency {SOAK_CONCURRENCY}",
            "0 errors",
            f"{soaked.errors} errors of {soaked.requests}",
            soaked.errors == 0 and soaked.requests == soak_requests,
        ),
        Target(
            f"binary vs JSON batches at concurrency {BATCH_LEVEL}",
            "binary faster",
            f"{binary_rate / json_rate:.2f}x JSON's req/s",
            binary_rate > json_rate and batches["binary"].errors == 0,
        ),
    ]


def write_json(
    path: Path,
    args: argparse.Namespace,
    series: dict[str, dict[int, Series]],
    soaked: Sample,
    targets: list[Target],
    predictions: list[float],
    wall_s: float,
    batches: dict[str, Series],
) -> None:
    """Every sample, the medians' inputs and the verdicts, for comparing runs later."""
    import mlflow  # only for its version; imported late as it is slow to import

    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "mlflow": mlflow.__version__,
        },
        "settings": {
            "rounds": args.rounds,
            "requests": args.requests,
            "mlflow_requests": args.mlflow_requests,
            "mlserver_requests": args.mlserver_requests,
            "mlserver": list(MLSERVER),
            "mlserver_workers": args.mlserver_workers,
            "warmup": args.warmup,
            "soak": args.soak,
            "batch_rows": args.batch_rows,
            "batch_requests": args.batch_requests,
        },
        "predictions": predictions,
        "runs": {
            label: {str(c): [asdict(s) for s in by_level[c].samples] for c in LEVELS}
            for label, by_level in series.items()
        },
        "soak": asdict(soaked),
        "batches": {label: [asdict(s) for s in runs.samples] for label, runs in batches.items()},
        "targets": [asdict(t) for t in targets],
        "wall_s": wall_s,
    }
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")


def main() -> int:
    """Set up, check parity, measure, report; 1 on a setup failure, else 0."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="rounds (medians are reported)")
    parser.add_argument("--requests", type=int, default=3000, help="gateway requests per run")
    parser.add_argument(
        "--mlflow-requests", type=int, default=1000, help="mlflow requests per run (~200 req/s)"
    )
    parser.add_argument(
        "--mlserver-requests", type=int, default=2000, help="MLServer requests per run"
    )
    parser.add_argument(
        "--mlserver-workers",
        type=int,
        help="MLServer's parallel_workers (0: inference in its server process); "
        "default: MLServer's default, one worker process",
    )
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests per run")
    parser.add_argument("--soak", type=int, default=20_000, help="gateway soak requests")
    parser.add_argument("--batch-rows", type=int, default=1000, help="rows per batch request")
    parser.add_argument(
        "--batch-requests", type=int, default=400, help="batch requests per run (JSON, binary)"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    counts = (args.rounds, args.requests, args.mlflow_requests, args.mlserver_requests,
              args.soak, args.batch_rows, args.batch_requests)  # fmt: skip
    if min(counts) < 1 or args.warmup < 0:
        parser.error("rounds and request counts must be positive (warmup non-negative)")
    console = Console()
    started = time.perf_counter()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="strata-bench-serving-") as tmp,
            running_stack(Path(tmp), console) as (project, contract),
        ):
            register_and_promote(project, contract, console)
            wait_for_gateway(project, contract, console)
            with (
                mlflow_server(contract, Path(tmp), console) as mlflow_url,
                mlserver(contract, Path(tmp), console, args.mlserver_workers) as mlserver_url,
            ):
                gateway_url = contract["STRATA_SERVING_URL"]
                endpoints = Endpoints(
                    mlflow=f"{mlflow_url}/invocations",
                    gateway=f"{gateway_url}/models/{MODEL_NAME}/invocations",
                    gateway_v2=f"{gateway_url}/v2/models/{MODEL_NAME}/infer",
                    mlserver=mlserver_url,
                )
                predictions = check_parity(endpoints, console)
                bodies = batch_bodies(args.batch_rows)
                check_batch_parity(endpoints, bodies, console)
                series = measure(endpoints, args, console)
                batches = measure_batches(endpoints, bodies, args, console)
                soaked = soak(endpoints, args.soak, console)
    except SetupError as exc:
        console.print("[red]setup failed:[/red]", escape(str(exc)), highlight=False)
        return 1
    wall_s = time.perf_counter() - started

    console.print(comparison_table(series, args.rounds, MLFLOW_PEER))
    console.print(v2_table(series, args.rounds))
    console.print(comparison_table(series, args.rounds, MLSERVER_PEER))
    console.print(batch_table(batches, bodies, args.rounds))
    console.print(
        f"soak: {soaked.requests} requests at concurrency {SOAK_CONCURRENCY}: "
        f"{soaked.throughput:.0f} req/s, p50 {ms(soaked.p50_ms)}, p99 {ms(soaked.p99_ms)}, "
        f"p99.9 {ms(soaked.p999_ms)}, max {ms(soaked.max_ms)}, {soaked.errors} errors "
        f"(statuses {soaked.statuses})"
    )
    targets = judge(series, soaked, args.soak, batches)
    for target in targets:
        verdict = "[green]met[/green]" if target.met else "[red]MISSED[/red]"
        console.print(f"target {target.name}: {target.wanted}; got {target.got} -> {verdict}")
    console.print(f"{os.cpu_count()} CPUs, wall time {wall_s:.0f} s")
    if args.json:
        write_json(args.json, args, series, soaked, targets, predictions, wall_s, batches)
        console.print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
