"""The serving gateway: every registered model that holds the serving alias, behind one port.

Small modules, each testable alone: ``settings`` (one settings object), ``inputs`` (a
model's input contract and request validation), ``loading`` (download, check, warm up and
hot-swap models), ``protocols`` (Open Inference Protocol v2 and MLflow's ``/invocations``
as pure functions), ``metrics``, ``prediction_log``, ``openapi`` and ``app`` (wiring).
``python -m stratakit.gateway`` runs it.
"""
