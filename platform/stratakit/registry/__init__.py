"""The model registry behind ``strata model``, on MLflow's registry.

Owns: model references (``refs``), listing and describing versions (``catalog``), the
lineage tags every version carries (``lineage``), re-checking them (``verify``), moving
aliases through the quality gate (``aliases``, ``quality_gate``), and connecting to the
project's tracking server and gateway (``client``). Functions take an ``MlflowClient`` so
they work against the embedded stack and a production tracking server alike.

May import: ``stratakit.settings``, ``contract``, ``project``, ``errors``, ``checks``,
``data_versions`` and, in ``client`` only, ``stack.context``/``stack.health`` to find the
project's servers.
"""
