"""``strata monitor drift``: a window of logged predictions against the version's training data.

Steps: resolve the model reference in the registry; read the window from the prediction
log; find the training reference from the version's lineage tags; score the reference with
the version itself for the prediction's own reference; compare every input column and the
prediction; store the result (JSON) and the report (HTML) in the bucket under
``monitoring/MODEL/version=V/``, log both on the version's training run in MLflow, and tag
the version with the verdict so the registry shows when it was last checked.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from stratakit.errors import MonitoringError
from stratakit.monitor.predictions import META_COLUMNS, PREDICTION, Window, read_window
from stratakit.monitor.reference import DvcStorage, ObjectReader, find_reference
from stratakit.monitor.results import RESULTS_PREFIX, bucket_of, s3_client
from stratakit.monitor.statistics import ColumnDrift, Verdict, compare
from stratakit.project import Project
from stratakit.registry.lineage import MONITOR_VERDICT_TAG, TAG_PREFIX, Lineage
from stratakit.registry.refs import ModelRef, resolve
from stratakit.registry.tracking_api import PROXIED_SCHEME, ModelVersion, TrackingAPI
from stratakit.settings import MonitoringSettings
from stratakit.stack.context import project_contract

if TYPE_CHECKING:
    import pyarrow as pa

#: Version tags the last check leaves on the registry (with ``MONITOR_VERDICT_TAG``).
CHECKED_TAG = f"{TAG_PREFIX}monitor.checked_at"
DRIFTED_TAG = f"{TAG_PREFIX}monitor.drifted"

Progress = Callable[[str], None]
Samples = dict[str, tuple[npt.NDArray[np.generic], npt.NDArray[np.generic]]]


@dataclass(frozen=True)
class DriftReport:
    """What a check found; :meth:`to_json` is its stored and printed form."""

    model: str
    version: str
    aliases: tuple[str, ...]
    window: str
    checked_at: str
    rows: int
    verdict: Verdict
    columns: tuple[ColumnDrift, ...]
    reference: dict[str, Any] = field(default_factory=dict)
    stored: dict[str, str] = field(default_factory=dict)
    """Where the result went: ``json`` and ``html`` (bucket URIs), ``mlflow`` (artifact URI)."""

    @property
    def drifted(self) -> list[str]:
        """Columns whose verdict is drift."""
        return [c.column for c in self.columns if c.verdict == "drift"]

    def to_json(self) -> dict[str, Any]:
        """Plain data: the report with ``drifted`` spelled out."""
        return {**asdict(self), "drifted": self.drifted}


def _verdict(columns: list[ColumnDrift], rows: int, settings: MonitoringSettings) -> Verdict:
    if rows < settings.min_rows:
        return "not enough data"
    if any(c.verdict == "drift" for c in columns):
        return "drift"
    return "ok"


def _values(column: pa.ChunkedArray) -> npt.NDArray[np.generic]:
    import pyarrow as pa

    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return np.asarray(column.to_pylist(), dtype=object)
    return np.asarray(column.to_numpy())


def _prediction_columns(values: Any, rows: int) -> dict[str, npt.NDArray[np.generic]]:
    """``prediction`` for one value per row, ``prediction[i]`` for each column of more."""
    array = np.asarray(values)
    if array.dtype == object and rows and isinstance(array.flat[0], list | tuple | np.ndarray):
        array = np.stack([np.asarray(v, dtype="float64") for v in array])
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim == 1:
        return {PREDICTION: array}
    if array.ndim == 2:
        return {f"{PREDICTION}[{i}]": array[:, i] for i in range(array.shape[1])}
    return {}


def _logged_predictions(window: pa.Table) -> dict[str, npt.NDArray[np.generic]]:
    import pyarrow as pa

    column = window[PREDICTION]
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        return _prediction_columns(column.to_pylist(), window.num_rows)
    return _prediction_columns(_values(column), window.num_rows)


def _reference_predictions(
    api: TrackingAPI, version: ModelVersion, frame: Any
) -> dict[str, npt.NDArray[np.generic]]:
    """The version's own predictions on its training reference."""
    import mlflow.pyfunc

    from stratakit.registry.verify import download_version

    with tempfile.TemporaryDirectory(prefix="strata-drift-") as scratch:
        folder = download_version(api, version.name, version.version, Path(scratch))
        model = mlflow.pyfunc.load_model(str(folder))
        predicted = model.predict(frame)
    if hasattr(predicted, "to_numpy"):
        predicted = predicted.to_numpy()
    return _prediction_columns(predicted, len(frame))


def _cache_key(version: ModelVersion, md5: str) -> str:
    return f"{RESULTS_PREFIX}/{version.name}/version={version.version}/reference-{md5}.parquet"


def _cached_predictions(
    client: Any, bucket: str, version: ModelVersion, md5: str
) -> dict[str, npt.NDArray[np.generic]] | None:
    """The version's predictions on this reference, when an earlier check kept them.

    A version's artifact and its reference never change (the registry refuses a version
    whose artifact does not match its digest), so the scoring is paid once per version.
    """
    import pyarrow.parquet as pq

    try:
        body = client.get_object(Bucket=bucket, Key=_cache_key(version, md5))["Body"].read()
    except client.exceptions.NoSuchKey:
        return None
    table = pq.read_table(io.BytesIO(body))
    return {name: _values(table[name]) for name in table.column_names}


def _cache_predictions(
    client: Any,
    bucket: str,
    version: ModelVersion,
    md5: str,
    predictions: Mapping[str, npt.NDArray[np.generic]],
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({k: pa.array(v) for k, v in predictions.items()}), buffer)
    client.put_object(Bucket=bucket, Key=_cache_key(version, md5), Body=buffer.getvalue())


def check_drift(
    project: Project,
    api: TrackingAPI,
    ref: ModelRef,
    window: Window,
    *,
    store: bool = True,
    progress: Progress = lambda step: None,
) -> DriftReport:
    """Run one drift check (see the module's docstring)."""
    settings = project.settings.monitoring
    contract = project_contract(project)
    bucket = bucket_of(contract)
    version = resolve(api, ref)
    lineage = Lineage.from_tags(version.tags)
    checked_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with s3_client(contract) as client:
        progress(f"reading the prediction log of {version.name} v{version.version}")
        logged = read_window(client, bucket, version.name, version.version, window)
        rows = 0 if logged is None else logged.num_rows
        if logged is not None and "inputs" in logged.column_names:
            raise MonitoringError(
                f"{version.name} v{version.version} was called with unnamed tensors, so the "
                "log holds no columns to compare; send named inputs (columns) to the gateway."
            )
        logged_columns = (
            [] if logged is None else
            [c for c in logged.column_names if c not in (*META_COLUMNS, PREDICTION)]
        )  # fmt: skip
        features = tuple(lineage.features) or tuple(logged_columns)
        if not features:
            raise MonitoringError(
                f"{version.name} v{version.version} has no strata.features tag and nothing "
                "logged; register it with the project's lineage tags and send traffic first."
            )
        if rows < settings.min_rows or logged is None:
            columns = [compare(name, np.array([]), np.array([]), settings) for name in features]
            report = DriftReport(
                version.name, version.version, version.aliases, window.describe(),
                checked_at, rows, "not enough data", tuple(columns),
            )  # fmt: skip
            return _store(report, {}, api, version, client, bucket, store, progress)
        absent = [name for name in features if name not in logged.column_names]
        if absent:
            raise MonitoringError(
                f"the prediction log of {version.name} v{version.version} lacks the input "
                f"columns {', '.join(absent)}; the gateway logs the columns it is sent."
            )
        progress("finding the training reference from the version's lineage")
        reader = ObjectReader(DvcStorage.of(project.root), client)
        reference = find_reference(lineage.data, features, reader)
        samples: Samples = {
            name: (_values(reference.table[name]), _values(logged[name])) for name in features
        }
        if PREDICTION in logged.column_names:
            expected = _cached_predictions(client, bucket, version, reference.md5)
            if expected is None:
                progress("scoring the reference with the version itself")
                expected = _reference_predictions(api, version, reference.table.to_pandas())
                _cache_predictions(client, bucket, version, reference.md5, expected)
            for name, current in _logged_predictions(logged).items():
                if name in expected:
                    samples[name] = (expected[name], current)
        progress(f"comparing {len(samples)} columns over {rows} rows")
        columns = [
            compare(name, ref_values, cur, settings) for name, (ref_values, cur) in samples.items()
        ]
        report = DriftReport(
            version.name,
            version.version,
            version.aliases,
            window.describe(),
            checked_at,
            rows,
            _verdict(columns, rows, settings),
            tuple(columns),
            reference={
                "data_path": reference.data_path,
                "md5": reference.md5,
                "rows": reference.table.num_rows,
                "files": list(reference.files),
            },
        )
        return _store(report, samples, api, version, client, bucket, store, progress)


def _store(
    report: DriftReport,
    samples: Samples,
    api: TrackingAPI,
    version: ModelVersion,
    client: Any,
    bucket: str,
    store: bool,
    progress: Progress,
) -> DriftReport:
    """Keep the result in the bucket and on the version's run; tag the version."""
    if not store:
        return report
    from stratakit.monitor.report import render_html

    progress("storing the report in the bucket and on the version's run")
    stamp = report.checked_at.replace("-", "").replace(":", "")
    key = f"{RESULTS_PREFIX}/{report.model}/version={report.version}/drift-{stamp}"
    html = render_html(report, samples).encode()
    stored = {"json": f"s3://{bucket}/{key}.json", "html": f"s3://{bucket}/{key}.html"}
    if version.run_id:
        artifacts = api.run_artifact_uri(version.run_id)
        name = f"monitoring/drift-v{report.version}-{stamp}.html"
        if artifacts.startswith(PROXIED_SCHEME):
            stored["mlflow"] = api.upload_proxied(artifacts, name, html)
    final = replace(report, stored=stored)
    body = json.dumps(final.to_json(), indent=2).encode()
    client.put_object(Bucket=bucket, Key=f"{key}.html", Body=html, ContentType="text/html")
    client.put_object(Bucket=bucket, Key=f"{key}.json", Body=body, ContentType="application/json")
    api.set_version_tag(report.model, report.version, MONITOR_VERDICT_TAG, report.verdict)
    api.set_version_tag(report.model, report.version, CHECKED_TAG, report.checked_at)
    api.set_version_tag(report.model, report.version, DRIFTED_TAG, ",".join(report.drifted))
    return final
