"""Loading served models and swapping them when the serving alias moves.

A version is downloaded into a private folder, its digest is checked against the
``strata.artifact_sha256`` lineage tag, it is loaded and warmed up on its input example,
and only then is it handed to the watcher (:mod:`stratakit.gateway.watcher`), which swaps
it in.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stratakit.errors import FeatureLookupError, InputError, ModelLoadError
from stratakit.gateway.inputs import Batch, InputSpec
from stratakit.gateway.online_features import FeatureLookup, open_lookup
from stratakit.gateway.outputs import OutputSpec, describe, from_signature
from stratakit.registry.lineage import (
    FEATURE_REFS_TAG,
    TAG_PREFIX,
    digest_matches,
    parse_refs,
    tree_sha256,
)

log = logging.getLogger("stratakit.gateway")

#: scikit-learn's warning when the fast path hands it a plain matrix. The columns are in the
#: order it was fitted with (checked at load time), so the gateway silences it.
FEATURE_NAMES_WARNING = "X does not have valid feature names"


@dataclass(frozen=True)
class LoadedModel:
    """One servable version: its input contract and how to call it."""

    name: str
    version: str
    spec: InputSpec
    pyfunc: Any
    predict_fn: str = "predict"
    fast: Callable[[np.ndarray], Any] | None = None
    """The native model's predict function, for numeric inputs (no DataFrame per request)."""
    matrix_order: tuple[str, ...] = ()
    run_id: str = ""
    artifact_sha256: str = ""
    """Digest of the files actually loaded (equal to the lineage tag, or there is no tag)."""
    loaded_at: float = field(default_factory=time.time)
    lookup: FeatureLookup | None = None
    """Online features for key-only requests (a version trained from the feature store)."""
    outputs: tuple[OutputSpec, ...] = ()
    """The output tensors, as the warm-up prediction returned them (else as the signature
    declares them; empty when neither says)."""

    def predict(self, batch: Batch) -> Any:
        """Predict a validated batch; the fast path when the model takes a matrix."""
        matrix = self.matrix(batch)
        if matrix is not None and self.fast is not None:
            return self.fast(matrix)
        return self.pyfunc.predict(self.model_input(batch))

    def matrix(self, batch: Batch) -> np.ndarray | None:
        """The fast path's input (columns stacked in fitted order), or ``None`` without one."""
        if self.fast is None:
            return None
        if batch.tensor is not None:
            return batch.tensor
        if batch.columns is not None:
            return np.column_stack([batch.columns[name] for name in self.matrix_order]).astype(
                np.float64, copy=False
            )
        return None

    def model_input(self, batch: Batch) -> Any:
        """What ``pyfunc.predict`` takes: a DataFrame for columns, the array for a tensor."""
        import pandas as pd

        if batch.columns is not None:
            return pd.DataFrame({name: batch.columns[name] for name in self.spec.names})
        if batch.tensor is not None:
            return batch.tensor
        if isinstance(batch.raw, (list, dict)):
            try:
                return pd.DataFrame(batch.raw)
            except ValueError as exc:
                raise InputError(f"the input cannot form a table: {exc}") from None
        return batch.raw


def load_version(
    name: str,
    version: str,
    tags: Mapping[str, str],
    source: str,
    model_dir: Path,
    feature_repo: Path | None = None,
) -> LoadedModel:
    """Download (from the version's ``source``), check, load and warm up one version.

    A version with feature refs also answers key-only requests when ``feature_repo``
    holds its views; if it does not, the version is still served with inline features.
    """
    local = _download(name, version, source, model_dir)
    try:
        model = load_folder(name, version, local, tags.get(TAG_PREFIX + "artifact_sha256", ""))
    except ModelLoadError:
        shutil.rmtree(local, ignore_errors=True)  # fetch it afresh on the next attempt
        raise
    refs = parse_refs(tags.get(FEATURE_REFS_TAG, ""))
    if refs and feature_repo is not None:
        try:
            lookup = open_lookup(feature_repo, refs, model.spec)
        except FeatureLookupError as exc:
            log.warning("%s/%s answers inline features only: %s", name, version, exc)
        else:
            model = dataclasses.replace(model, lookup=lookup)
    return model


def load_folder(name: str, version: str, local: Path, expected: str = "") -> LoadedModel:
    """Check (when ``expected`` is given), load and warm up a model folder."""
    import mlflow

    actual = tree_sha256(local)  # also reported in the model's metadata: what is deployed
    if expected:
        if digest_matches(local, expected):
            actual = expected  # the same files (a tag of kit 0.1.0 digests them differently)
        else:
            raise ModelLoadError(
                f"{name}/{version}: the artifact's sha256 {actual[:12]} differs from its "
                f"lineage tag {expected[:12]}; run `strata model verify {name}/{version}`."
            )
    else:
        log.warning("%s/%s has no strata.artifact_sha256 tag; serving it unchecked", name, version)
    try:
        pyfunc = mlflow.pyfunc.load_model(str(local))
    except Exception as exc:
        raise ModelLoadError(f"{name}/{version} cannot be loaded: {exc}") from exc
    spec = InputSpec.from_signature(pyfunc.metadata.get_input_schema())
    pyfunc_conf = pyfunc.metadata.flavors.get("python_function", {})
    predict_fn = str(pyfunc_conf.get("predict_fn", "predict"))
    model = LoadedModel(
        name=name,
        version=version,
        spec=spec,
        pyfunc=pyfunc,
        predict_fn=predict_fn,
        run_id=str(getattr(pyfunc.metadata, "run_id", "") or ""),
        artifact_sha256=actual,
    )
    example = _example(pyfunc, local, spec)
    model = _with_fast_path(model, pyfunc_conf, example)
    outputs = from_signature(pyfunc.metadata.get_output_schema(), predict_fn)
    if example is not None:
        try:
            outputs = describe(predict_fn, model.predict(example))
        except Exception as exc:
            raise ModelLoadError(f"{name}/{version} fails on its input example: {exc}") from exc
    return dataclasses.replace(model, outputs=outputs)


def _download(name: str, version: str, source: str, model_dir: Path) -> Path:
    """The version's files in ``model_dir``; a half-finished download is never used."""
    import mlflow

    target = model_dir / _safe(name) / version
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    scratch = Path(tempfile.mkdtemp(prefix=".download-", dir=target.parent))
    try:
        local = Path(
            mlflow.artifacts.download_artifacts(artifact_uri=source, dst_path=str(scratch))
        )
        local.rename(target)
    except OSError as exc:
        raise ModelLoadError(f"{name}/{version} cannot be stored in {target}: {exc}") from exc
    except Exception as exc:
        raise ModelLoadError(f"{name}/{version} cannot be downloaded: {exc}") from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _with_fast_path(
    model: LoadedModel, pyfunc_conf: Mapping[str, Any], example: Batch | None
) -> LoadedModel:
    """Add the native fast path when it is safe, and prove it equals the pyfunc path."""
    spec = model.spec
    if pyfunc_conf.get("loader_module") != "mlflow.sklearn" or not spec.numeric:
        return model
    if len(spec.tensors) > 1:
        return model
    raw = model.pyfunc.get_raw_model()
    fast = getattr(raw, model.predict_fn, None)
    if not callable(fast):
        return model
    order = spec.names
    fitted = getattr(raw, "feature_names_in_", None)
    if spec.columns and fitted is not None:
        fitted_order = tuple(str(n) for n in fitted)
        if set(fitted_order) != set(order):
            return model
        order = fitted_order
    candidate = dataclasses.replace(model, fast=fast, matrix_order=order)
    if example is not None:
        try:
            same = np.allclose(
                np.asarray(candidate.predict(example), dtype=np.float64),
                np.asarray(model.predict(example), dtype=np.float64),
                equal_nan=True,
            )
        except (TypeError, ValueError) as exc:
            log.warning("%s/%s: fast path disabled (%s)", model.name, model.version, exc)
            return model
        if not same:
            log.warning("%s/%s: fast path disabled (answers differ)", model.name, model.version)
            return model
    return candidate


def _example(pyfunc: Any, local: Path, spec: InputSpec) -> Batch | None:
    """A batch from the logged input example, validated like a request would be."""
    from stratakit.gateway.inputs import columns_batch, tensor_batch

    try:
        example = pyfunc.metadata.load_input_example(str(local))
    except Exception:
        return None
    if example is None:
        return None
    try:
        if spec.columns and hasattr(example, "to_dict"):
            return columns_batch(spec, example.to_dict(orient="list"))
        if spec.tensors and len(spec.tensors) == 1:
            return tensor_batch(spec, np.asarray(example))
    except InputError as exc:
        raise ModelLoadError(f"the input example does not match the signature: {exc}") from exc
    return None


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)
