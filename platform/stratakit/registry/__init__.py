"""The model registry behind ``strata model``, on MLflow's registry.

Owns: model references (``refs``), listing and describing versions (``catalog``), the
lineage tags every version carries (``lineage``), re-checking them (``verify``), moving
aliases through the quality gate (``aliases``, ``quality_gate``), the tracking server's
REST API (``tracking_api``) and connecting to the project's tracking server and gateway
(``connection``). Functions take a ``TrackingAPI``, so they work against the embedded stack
and a production tracking server alike, without importing MLflow.

May import: ``stratakit.settings``, ``contract``, ``project``, ``errors``, ``checks``,
``data_versions`` and, in ``connection`` only, ``stack.context``/``stack.health`` to find
the project's servers.
"""
