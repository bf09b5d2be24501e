"""``strata model`` without a running stack: one line saying to start it."""

from __future__ import annotations

from stratakit.project import Project
from stratakit.stack.context import prepare_context

from ...helpers.projects import assert_one_line_error, strata


def test_model_commands_say_to_start_the_stack(project: Project) -> None:
    prepare_context(project)
    for args in (("list",), ("describe", "churn"), ("verify", "churn@production")):
        assert_one_line_error(strata("model", *args, cwd=project.root), "strata stack up")


def test_a_bad_reference_is_refused_before_any_server_is_asked(project: Project) -> None:
    assert_one_line_error(
        strata("model", "describe", "churn@", cwd=project.root), "NAME@ALIAS or NAME/VERSION"
    )
