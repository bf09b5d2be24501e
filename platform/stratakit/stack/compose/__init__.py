"""The compose profile: the stack's services as containers (``infra/compose/compose.yaml``).

Owns finding the engine and the Compose CLI (:mod:`.engine`), the project's compose
environment file and the contract it ends in (:mod:`.environment`), and bringing the
containers up, down and reporting on them (:mod:`.lifecycle`). The contract has the same
variables as the embedded profile's; only where they point differs.

May import: ``stratakit.stack`` (context, state, files, health, services), ``settings``,
``contract``, ``project``, ``errors``.
"""
