"""The local platform stack: a project's services as supervised processes on loopback.

Owns: the stack's persistent choices (``state``: ports, bucket, credentials), port
selection (``ports``), the context and environment contract of a project's stack
(``context``), one module per service (``services/``), the supervisor configuration and
its control socket (``supervisor``), the per-service launcher supervisor runs
(``service_launcher``), health checks (``health``), process bookkeeping (``processes``),
private atomic files (``files``), and bringing it all up and down (``lifecycle``).

May import: ``stratakit.settings``, ``contract``, ``project`` and ``errors``; never the
registry, flows, features, gateway, demo or CLI.
"""
