"""The project's scheduled pipelines on the stack's Prefect.

Owns: pointing Prefect's client at the project's scheduler (``connection``), deploying the
queues and flows ``[tool.strata]`` declares (``deploy``), listing and running them
(``runs``), and ``strata data push`` with the event that starts triggered flows
(``data_push``).

May import: ``stratakit.settings``, ``contract``, ``project``, ``errors``,
``data_versions`` and ``stack.context``/``stack.health``/``stack.services`` to find the
project's scheduler and its work pool.
"""
