"""``strata flows run --param``: KEY=VALUE pairs as flow parameters."""

from __future__ import annotations

import pytest

from stratakit.errors import InvalidInputError
from stratakit.flows.runs import parse_parameters


def test_parameters_decode_json_values_and_keep_strings() -> None:
    assert parse_parameters(["limit=10", "name=churn", "dry=true", "ratio=0.5", "tag="]) == {
        "limit": 10,
        "name": "churn",
        "dry": True,
        "ratio": 0.5,
        "tag": "",
    }
    with pytest.raises(InvalidInputError, match="must be KEY=VALUE"):
        parse_parameters(["limit"])
