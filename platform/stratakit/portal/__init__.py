"""The platform portal: one read-only page showing the whole stack.

Owns: ``views`` (the overview: services, models with lineage and promotions, features,
pipelines, monitoring, gathered from the same APIs the CLI reads), ``actions`` (verify a
version; a stored drift report), ``traffic`` (rate and latency over time from the gateway's
metrics), ``format`` (how values are written), ``app`` (Starlette + Jinja2, vendored htmx
and uPlot under ``static/vendor``) and ``__main__`` (the stack service).

May import: ``errors``, ``contract``, ``settings``, ``project``, ``stack``, ``registry``,
``features``, ``flows``, ``monitor`` and the package's version.
"""
