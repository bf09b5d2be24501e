"""Monitoring of served models: drift of the logged predictions against the training data.

Owns: ``statistics`` (one column's drift: PSI or Jensen-Shannon, the test's p-value, the
verdict), ``predictions`` (a window of the gateway's prediction log, read from the bucket),
``reference`` (the version's training data, found from its lineage tags in DVC's storage),
``drift`` (a check from reference to stored report), ``report`` (the HTML report) and
``status`` (traffic, latency and errors from the gateway's metrics, with the last check).

May import: ``errors``, ``contract``, ``settings``, ``project``, the registry's lookups and
the stack's contract.
"""
