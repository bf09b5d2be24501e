"""The feature store as the kit sees it: the catalog of a project's Feast feature views.

Owns: reading Feast's registry (views, entities, owners, freshness) and joining it with
the model versions whose lineage names their features (``catalog``).

May import: ``stratakit.contract``, ``errors`` and ``registry.lineage`` (the tag names).
"""
