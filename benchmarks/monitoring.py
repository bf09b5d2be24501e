"""Benchmark: a drift check over 100,000 logged predictions, and what the prediction log costs.

One throw-away stack serves a model of 10 numeric features, trained on a reference table
that lives where a project's DVC remote keeps it (content-addressed in the stack's bucket)
and that the version's lineage tags name. The gateway itself writes the prediction log: 100
requests of 1,000 rows each, half of them with two features shifted.

1. Drift check: `strata monitor drift MODEL/1 --last 100000 --no-store` as a user runs it
   (a fresh CLI process: reading the log from the bucket, finding and reading the reference,
   ten PSI and KS comparisons and the prediction's), each round; wall time and the
   process's peak RSS (sampled every 10 ms). Target: <= 5 s and <= 500 MB. The first check
   of a version also scores the reference with the version (MLflow's import and the model's
   load) and keeps the result in the bucket; it is shown apart, as is one more check with
   `--store`, which adds the HTML report with its plots.
2. Logging cost: two gateways started alike on the stack's registry, one logging to the
   stack's bucket and one with no bucket (log off), taking turns in alternating order
   (on, off, off, on, ...), 10,000 100-row requests at concurrency 8 a turn. A log-on turn
   ends when its rows are in the bucket, so its last flush never lands in the other
   gateway's turn; besides the throughput, each turn's CPU seconds per 1,000 requests of
   the gateway and of the object store say where the cost goes.
   Target: logging costs <= 10% of the throughput.

Missing a target still exits 0 (this is a measurement); a setup failure exits 1.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import psutil
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is not a package
from loadgen import run_load
from serving import SetupError, client_env, running_stack, wait_for

from stratakit.stack.ports import free_port

MODEL_NAME = "bench-drift"
FEATURES = tuple(f"f{i}" for i in range(10))
LOGGED_ROWS = 100_000
BATCH = 1_000
TARGET_SECONDS = 5.0
TARGET_MB = 500.0
TARGET_LOG_COST = 0.10
#: The gateway's default prediction log flush interval (s).
LOG_FLUSH_SECONDS = 10.0

REGISTER_CODE = """
import json, sys, tempfile
from pathlib import Path
import mlflow, numpy as np, pandas as pd
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression
from stratakit.registry.lineage import tree_sha256

name, table, data_path, md5 = sys.argv[1:5]
frame = pd.read_parquet(table)
X = frame.drop(columns="label")
model = LogisticRegression(max_iter=500).fit(X, frame["label"])
mlflow.set_experiment("bench-drift")
with mlflow.start_run():
    info = mlflow.sklearn.log_model(model, name="model",
                                    signature=infer_signature(X, frame["label"]),
                                    pip_requirements=["scikit-learn"])
with tempfile.TemporaryDirectory() as scratch:
    folder = mlflow.artifacts.download_artifacts(info.model_uri, dst_path=scratch)
    digest = tree_sha256(Path(folder))
tags = {"strata.artifact_sha256": digest, "strata.features": ",".join(X.columns),
        f"strata.data.{data_path}": md5}
version = mlflow.register_model(info.model_uri, name, tags=tags).version
mlflow.MlflowClient().set_registered_model_alias(name, "production", version)
print(json.dumps({"version": str(version)}))
"""


def frame(rows: int, seed: int, shift: float = 0.0) -> Mapping[str, np.ndarray]:
    """Ten standard normal features; ``shift`` moves the first two by that many SDs."""
    rng = np.random.default_rng(seed)
    columns = {name: rng.normal(0.0, 1.0, rows) for name in FEATURES}
    columns["f0"] = columns["f0"] + shift
    columns["f1"] = columns["f1"] + shift
    return columns


def push_reference(contract: Mapping[str, str], scratch: Path) -> tuple[Path, str]:
    """The reference as `dvc add` + `dvc push` store a folder: a .dir listing and its file."""
    import boto3
    import pandas as pd

    columns = dict(frame(50_000, seed=1))
    table = pd.DataFrame(columns)
    table["label"] = (table["f0"] + table["f1"] > 0).astype("int64")
    path = scratch / "reference.parquet"
    table.to_parquet(path, index=False)
    blob = path.read_bytes()
    file_md5 = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    listing = json.dumps([{"md5": file_md5, "relpath": "reference.parquet"}]).encode()
    dir_md5 = hashlib.md5(listing, usedforsecurity=False).hexdigest() + ".dir"
    session = boto3.session.Session(
        aws_access_key_id=contract["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=contract["AWS_SECRET_ACCESS_KEY"],
    )
    s3 = session.client("s3", endpoint_url=contract["AWS_ENDPOINT_URL_S3"])
    bucket = contract["STRATA_BUCKET"]
    for md5, body in ((file_md5, blob), (dir_md5, listing)):
        s3.put_object(Bucket=bucket, Key=f"dvc/files/md5/{md5[:2]}/{md5[2:]}", Body=body)
    return path, dir_md5


def body(columns: Mapping[str, np.ndarray], start: int, rows: int) -> bytes:
    """An MLflow ``dataframe_split`` request of ``rows`` rows."""
    data = np.column_stack([columns[name][start : start + rows] for name in FEATURES])
    split = {"columns": list(FEATURES), "data": data.tolist()}
    return json.dumps({"dataframe_split": split}).encode()


def peak_rss(command: list[str], cwd: Path, env: Mapping[str, str]) -> tuple[float, float, str]:
    """Run ``command``; (wall seconds, peak RSS in MB, stdout)."""
    started = time.perf_counter()
    child = subprocess.Popen(
        command, cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    process = psutil.Process(child.pid)
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            try:
                peak = max(peak, process.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = child.communicate(timeout=300)
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()
    if child.returncode not in (0, 1):
        raise SetupError(f"strata monitor drift failed:\n{err[-2000:]}")
    return wall, peak / 2**20, out


def extra_gateway(
    contract: Mapping[str, str], scratch: Path, name: str, log: bool
) -> tuple[subprocess.Popen[bytes], str]:
    """A gateway of this benchmark's own on the stack's registry, prediction log on or off.

    On: it logs to the stack's bucket; off: it has no bucket. Nothing else differs.
    """
    port = free_port()
    env = {
        **client_env(contract),
        "STRATA_GATEWAY_PORT": str(port),
        "STRATA_BUCKET": contract["STRATA_BUCKET"] if log else "",
        "STRATA_GATEWAY_MODEL_DIR": str(scratch / name / "models"),
    }
    (scratch / name).mkdir()
    handle = (scratch / name / "gateway.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "stratakit.gateway"],
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(f"{url}/v2/models/{MODEL_NAME}", 120, alive=lambda: process.poll() is None)
    return process, url


@dataclass(frozen=True)
class Turn:
    """One gateway's turn under load.

    Its throughput, and the CPU seconds per 1,000 requests of the gateway and of the object
    store (which receives the log's files).
    """

    throughput: float
    gateway_cpu: float
    store_cpu: float


def listening_process(url: str) -> psutil.Process:
    """The process listening on ``url``'s port (the stack's object store)."""
    port = urlsplit(url).port
    for connection in psutil.net_connections("tcp"):
        listening = connection.status == psutil.CONN_LISTEN and connection.laddr.port == port
        if listening and connection.pid is not None:
            return psutil.Process(connection.pid)
    raise SetupError(f"no process listens on {url}")


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _written_rows(url: str) -> float:
    """The gateway's count of prediction log rows done with so far, in every outcome.

    Written, failed or dropped: a turn never waits for rows that will not be stored.
    """
    total = 0.0
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith("strata_gateway_prediction_log_rows_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def log_turn(
    gateway: subprocess.Popen[bytes],
    store: psutil.Process,
    url: str,
    request: bytes,
    requests: int,
    logs: bool,
) -> Turn:
    """Load one gateway; with the log on, wait until this turn's rows are in the bucket.

    So the turn's last flush never lands in the next gateway's turn, and its CPU (the
    gateway's and the object store's) is counted in this turn. The throughput is the load's
    own (the last flush, at most 50,000 rows of the turn's 1,020,000, is not in it).
    """
    base = url.rsplit("/models/", 1)[0]
    before = _written_rows(base) if logs else 0.0
    process = psutil.Process(gateway.pid)
    cpu_before, store_before = _cpu(process), _cpu(store)
    result = run_load(url, request, concurrency=8, requests=requests, warmup=200)
    if result.errors:
        raise SetupError(f"{result.errors} errors from {url}")
    if logs:  # written every 10 s, or at 50,000 rows
        expected = before + (result.requests + 200) * 100
        deadline = time.monotonic() + 3 * LOG_FLUSH_SECONDS
        while _written_rows(base) < expected:
            if time.monotonic() > deadline:
                raise SetupError(f"the log of {url} was not written in time")
            time.sleep(0.05)
    per_thousand = 1000 / requests
    return Turn(
        throughput=result.throughput(),
        gateway_cpu=(_cpu(process) - cpu_before) * per_thousand,
        store_cpu=(_cpu(store) - store_before) * per_thousand,
    )


def log_cost_table(turns: Mapping[str, list[Turn]], requests: int) -> Table:
    """Throughput and CPU per 1,000 requests, log on against log off."""
    table = Table(
        title=f"prediction log cost, 100-row requests at concurrency 8 ({requests:,} a turn, "
        f"{len(turns['on'])} turns each, alternating)",
        title_justify="left",
    )
    for column in ("gateway", "req/s (median)", "range", "gateway CPU s / 1k req",
                   "object store CPU s / 1k req"):  # fmt: skip
        table.add_column(column)
    for name in ("on", "off"):
        series = turns[name]
        rates = [t.throughput for t in series]
        table.add_row(
            f"log {name}",
            f"{statistics.median(rates):.0f}",
            f"{min(rates):.0f}-{max(rates):.0f}",
            f"{statistics.median(t.gateway_cpu for t in series):.3f}",
            f"{statistics.median(t.store_cpu for t in series):.3f}",
        )
    return table


def main() -> int:
    """Run both measurements and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--log-rounds", type=int, default=6, help="prediction log on/off turns of each"
    )
    parser.add_argument(
        "--log-requests", type=int, default=10_000, help="requests in each logging turn"
    )
    args = parser.parse_args()
    turns: dict[str, list[Turn]] = {"on": [], "off": []}
    console = Console()
    console.print(
        f"[bold]{platform.node()}[/]: {psutil.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB"
    )
    with tempfile.TemporaryDirectory(prefix="strata-bench-drift-") as scratch:
        scratch_path = Path(scratch)
        try:
            with running_stack(scratch_path, console) as (project, contract):
                env = client_env(contract)
                table, md5 = push_reference(contract, scratch_path)
                (project.root / ".dvc").mkdir()
                (project.root / ".dvc" / "config").write_text(
                    f"[core]\n    remote = storage\n['remote \"storage\"']\n"
                    f"    url = s3://{contract['STRATA_BUCKET']}/dvc\n"
                )
                done = subprocess.run(
                    [sys.executable, "-c", REGISTER_CODE, MODEL_NAME, str(table), "reference", md5],
                    env=env,
                    cwd=project.root,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if done.returncode != 0:
                    raise SetupError(f"registration failed:\n{done.stderr[-2000:]}")
                serving = contract["STRATA_SERVING_URL"]
                wait_for(f"{serving}/v2/models/{MODEL_NAME}", 120)
                invocations = f"/models/{MODEL_NAME}/invocations"

                # The gateway writes the log: 100 requests of 1,000 rows, half shifted.
                with console.status(f"logging {LOGGED_ROWS:,} predictions through the gateway"):
                    half = LOGGED_ROWS // 2
                    for part, columns in enumerate((frame(half, 2), frame(half, 3, shift=1.0))):
                        for start in range(0, half, BATCH):
                            result = run_load(
                                serving + invocations,
                                body(columns, start, BATCH),
                                concurrency=1,
                                requests=1,
                                timeout_s=30,
                            )
                            if result.errors:
                                raise SetupError(f"logging request {part}/{start} failed")
                    time.sleep(12)  # the log is written every 10 s

                command = [sys.executable, "-m", "stratakit.cli", "monitor", "drift",
                           f"{MODEL_NAME}/1", "--last", str(LOGGED_ROWS), "-f", "json"]  # fmt: skip
                # The first check scores the reference with the version and keeps the result;
                # the later ones (the hourly monitor flow's case) read it back.
                with console.status("drift check, first (scores the reference)"):
                    cold_wall, cold_peak, out = peak_rss(
                        [*command, "--no-store"], project.root, env
                    )
                drift_walls: list[float] = []
                drift_peaks: list[float] = []
                for index in range(args.rounds):
                    with console.status(f"drift check, round {index + 1}/{args.rounds}"):
                        wall, peak, out = peak_rss([*command, "--no-store"], project.root, env)
                    drift_walls.append(wall)
                    drift_peaks.append(peak)
                report: dict[str, Any] = json.loads(out)
                with console.status("drift check with the HTML report stored"):
                    stored_wall, stored_peak, _ = peak_rss(command, project.root, env)
                if report.get("rows") != LOGGED_ROWS:
                    raise SetupError(f"the check read {report.get('rows')} rows, not {LOGGED_ROWS}")
                drifted = sorted(str(c) for c in report.get("drifted", []))

                # Logging on against logging off, taking turns (on, off, off, on, ...).
                gateways = {
                    "on": extra_gateway(contract, scratch_path, "log-on", log=True),
                    "off": extra_gateway(contract, scratch_path, "log-off", log=False),
                }
                store = listening_process(contract["AWS_ENDPOINT_URL_S3"])
                try:
                    request = body(frame(100, 9), 0, 100)
                    for index in range(args.log_rounds):
                        order = ("on", "off") if index % 2 == 0 else ("off", "on")
                        for name in order:
                            process, url = gateways[name]
                            with console.status(f"prediction log {name}, round {index + 1}"):
                                turn = log_turn(process, store, url + invocations, request,
                                                args.log_requests, logs=name == "on")  # fmt: skip
                            turns[name].append(turn)
                finally:
                    for process, _ in gateways.values():
                        process.terminate()
                        process.wait(timeout=30)
        except SetupError as exc:
            console.print(f"[red]setup failed:[/] {exc}")
            return 1

    drift_table = Table(
        title=f"drift check over {LOGGED_ROWS:,} logged rows x {len(FEATURES)} "
        f"features (median of {args.rounds})",
        title_justify="left",
    )
    for column in ("measure", "median", "range", "target", "met"):
        drift_table.add_column(column)
    wall, peak = statistics.median(drift_walls), statistics.median(drift_peaks)
    drift_table.add_row(
        "wall (s)",
        f"{wall:.2f}",
        f"{min(drift_walls):.2f}-{max(drift_walls):.2f}",
        f"<= {TARGET_SECONDS:g}",
        str(wall <= TARGET_SECONDS),
    )
    drift_table.add_row(
        "peak RSS (MB)",
        f"{peak:.0f}",
        f"{min(drift_peaks):.0f}-{max(drift_peaks):.0f}",
        f"<= {TARGET_MB:g}",
        str(peak <= TARGET_MB),
    )
    drift_table.add_row(
        "first check, scoring the reference (s, MB)",
        f"{cold_wall:.2f}, {cold_peak:.0f}",
        "-",
        "-",
        "-",
    )
    drift_table.add_row(
        "with the HTML report (s, MB)", f"{stored_wall:.2f}, {stored_peak:.0f}", "-", "-", "-"
    )
    console.print(drift_table)
    console.print(
        f"drifted columns found: {', '.join(drifted) or 'none'} (f0, f1 were shifted "
        "in half the rows)"
    )
    console.print(log_cost_table(turns, args.log_requests))
    on = statistics.median(t.throughput for t in turns["on"])
    off = statistics.median(t.throughput for t in turns["off"])
    cost = 1 - on / off
    console.print(
        f"logging costs {cost:.1%} of the throughput (target <= "
        f"{TARGET_LOG_COST:.0%}): {'met' if cost <= TARGET_LOG_COST else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
