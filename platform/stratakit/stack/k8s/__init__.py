"""The Kubernetes definitions of the stack (``infra/k8s/``), rendered for one project.

Owns rendering a kustomize overlay with the project's bucket, images and generated
credentials (:mod:`.manifests`) and the contract a developer uses against the cluster
through ``kubectl port-forward`` (:mod:`.environment`). Nothing here talks to a cluster:
``kubectl kustomize`` runs offline.

May import: ``stratakit.stack`` (context, state, files, services), ``settings``,
``contract``, ``project``, ``errors``.
"""
