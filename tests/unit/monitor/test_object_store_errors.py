"""The object store failing during a check is one MonitoringError naming it, not a traceback."""

from __future__ import annotations

import pytest

from stratakit.errors import MonitoringError
from stratakit.monitor.results import s3_client
from stratakit.stack.ports import free_port


def test_an_object_store_that_does_not_answer_is_named() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    contract = {
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ACCESS_KEY_ID": "key",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",
    }
    expected = f"the object store at {endpoint} failed"
    with pytest.raises(MonitoringError, match=expected) as caught, s3_client(contract) as client:
        client.list_objects_v2(Bucket="b-1")
    assert caught.value.exit_code == 2
    assert "strata stack status" in str(caught.value)
