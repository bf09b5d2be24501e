"""The serving gateway: every registered model that holds the serving alias, behind one port.

Small modules, each testable alone: ``settings`` (one settings object), ``inputs`` (a
model's input contract and request validation), ``loading`` (download, check and warm up a
version), ``watcher`` (the served set, kept in step with the registry's alias, hot swaps),
``online_features`` (entity keys to inputs), ``outputs`` (predictions as named output
tensors, for responses and metadata), ``binary`` (the binary tensor data extension's numpy
codec), ``batching``, ``protocols`` (Open Inference Protocol v2 and MLflow's
``/invocations`` as pure functions), ``metrics``, ``prediction_log``, ``openapi`` and
``app`` (wiring).
``python -m stratakit.gateway`` runs it.

May import: ``stratakit.settings``, ``contract``, ``errors``, ``registry.lineage`` (tag
names and the artifact digest) and ``registry.tracking_api`` (the registry over REST);
never the stack, the CLI or MLflow's client at import time.
"""
