"""``strata demo``: the kit shown end to end, as a user would use it.

Owns: the stack tour (``stack_tour``: a scratch project's stack, each service used with its
own client), the flow it deploys (``retry_flow``: a task that fails once and is retried),
and the project walk-through (``walkthrough``: generate a project, run its pipeline,
verify, promote and score through the gateway).

May import: ``stratakit.stack``, ``project_template``, ``contract``, ``project``, ``errors``.
"""
