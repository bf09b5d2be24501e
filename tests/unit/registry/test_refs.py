"""Model references: the three accepted forms, and the error naming them."""

from __future__ import annotations

import pytest

from stratakit.errors import InvalidInputError
from stratakit.registry.refs import ModelRef


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("churn", ModelRef("churn")),
        ("churn@production", ModelRef("churn", alias="production")),
        ("churn_v2/12", ModelRef("churn_v2", version="12")),
    ],
)
def test_model_references(text: str, expected: ModelRef) -> None:
    assert ModelRef.parse(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize("text", ["", "churn@", "churn/x", "churn/1/2", "@prod", "a b"])
def test_bad_model_references_name_the_accepted_forms(text: str) -> None:
    with pytest.raises(InvalidInputError, match="NAME@ALIAS or NAME/VERSION"):
        ModelRef.parse(text)
