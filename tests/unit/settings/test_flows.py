"""``[tool.strata.queues]`` and ``[tool.strata.flows]``: what parses, and what each mistake says."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from stratakit.errors import FlowNotFoundError, SettingsError, StrataError
from stratakit.settings import (
    DEFAULT_QUEUE,
    FlowSettings,
    QueueSettings,
    parse_settings,
)

FLOWS_PY = """
from prefect import flow

@flow
def materialize() -> None: ...

@flow
async def retrain(epochs: int = 1) -> None: ...
"""

GOOD = """
[queues]
materialize = { priority = 1 }
training = { priority = 10, concurrency_limit = 1 }

[flows.materialize]
entrypoint = "src/pkg/flows.py:materialize"
queue = "materialize"
cron = "0 * * * *"
parameters = {}

[flows.retrain]
entrypoint = "src/pkg/flows.py:retrain"
queue = "training"
triggers = ["strata.data.pushed"]
parameters = { epochs = 3 }
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "flows.py").write_text(FLOWS_PY)
    return tmp_path


def settings(text: str) -> dict[str, Any]:
    return tomllib.loads(text)


def test_good_config_parses(root: Path) -> None:
    config = parse_settings(settings(GOOD), root)
    assert config.queues == {
        "materialize": QueueSettings("materialize", 1, None),
        "training": QueueSettings("training", 10, 1),
    }
    assert config.flows["materialize"] == FlowSettings(
        name="materialize",
        entrypoint="src/pkg/flows.py:materialize",
        queue="materialize",
        cron="0 * * * *",
    )
    retrain = config.flow("retrain")
    assert (retrain.path, retrain.function) == ("src/pkg/flows.py", "retrain")
    assert retrain.triggers == ("strata.data.pushed",)
    assert retrain.parameters == {"epochs": 3}
    assert retrain.cron is None


def test_no_tables_means_no_flows(root: Path) -> None:
    config = parse_settings({"bucket": "b-1"}, root)
    assert (config.queues, config.flows) == ({}, {})


def test_a_flow_without_queue_runs_on_the_default_queue(root: Path) -> None:
    table = settings('[flows.m]\nentrypoint = "src/pkg/flows.py:materialize"\n')
    assert parse_settings(table, root).flows["m"].queue == DEFAULT_QUEUE


BAD = [
    pytest.param(
        '[flows.m]\nentrypoint = "src/pkg/flows.py:materialize"\nschedule = "0 * * * *"\n',
        "[tool.strata.flows.m] has unknown key 'schedule'; valid keys: entrypoint, queue, cron",
        id="unknown-flow-key",
    ),
    pytest.param(
        "[queues]\nq = { priority = 1, limit = 2 }\n",
        "[tool.strata.queues].q has unknown key 'limit'; valid keys: priority, concurrency_limit",
        id="unknown-queue-key",
    ),
    pytest.param(
        '[queues]\nq = { priority = "high" }\n',
        "[tool.strata.queues].q.priority = 'high' must be an integer >= 1",
        id="priority-type",
    ),
    pytest.param(
        "[queues]\nq = { priority = 0 }\n",
        "[tool.strata.queues].q.priority = 0 must be an integer >= 1",
        id="priority-zero",
    ),
    pytest.param(
        "[queues]\nq = { priority = 2, concurrency_limit = true }\n",
        "[tool.strata.queues].q.concurrency_limit = True must be an integer >= 0",
        id="limit-type",
    ),
    pytest.param(
        "[queues]\nq = { concurrency_limit = 1 }\n",
        "[tool.strata.queues].q needs a priority",
        id="priority-missing",
    ),
    pytest.param(
        "[queues]\na = { priority = 3 }\nb = { priority = 3 }\n",
        "[tool.strata.queues].b.priority = 3 is also the priority of queue 'a'",
        id="priority-duplicate",
    ),
    pytest.param("queues = 3\n", "[tool.strata.queues] must be a table", id="queues-type"),
    pytest.param(
        '[flows.m]\nentrypoint = "src/pkg/flows.py:materialize"\ncron = "0 25 * * *"\n',
        "[tool.strata.flows.m].cron = '0 25 * * *' is not a valid cron expression",
        id="bad-cron",
    ),
    pytest.param(
        '[flows.m]\nentrypoint = "src/pkg/flows.py:materialize"\ncron = "every hour"\n',
        "is not a valid cron expression; use five fields",
        id="cron-words",
    ),
    pytest.param(
        '[flows.m]\nentrypoint = "src/pkg/flows.py:materialize"\ncron = "0 0 * * * *"\n',
        "is not a valid cron expression; use five fields",
        id="cron-six-fields",
    ),
    pytest.param(
        '[flows.m]\nentrypoint = "src/pkg/flows.py:materialize"\nqueue = "gpu"\n',
        "[tool.strata.flows.m].queue = 'gpu' is not a queue; declare it under [tool.strata.queues]",
        id="unknown-queue",
    ),
    pytest.param(
        '[flows.m]\nentrypoint = "src/pkg/missing.py:materialize"\n',
        "[tool.strata.flows.m].entrypoint: file 'src/pkg/missing.py' not found",
        id="missing-file",
    ),
    pytest.param(
        '[flows.m]\nentrypoint = "src/pkg/flows.py:publish"\n',
        "'src/pkg/flows.py' defines no function 'publish'",
        id="missing-function",
    ),
    pytest.param(
        '[flows.m]\nentrypoint = "src/pkg/flows.py"\n',
        "[tool.strata.flows.m].entrypoint = 'src/pkg/flows.py' must be 'PATH:FUNCTION'",
        id="entrypoint-shape",
    ),
    pytest.param(
        '[flows.m]\nqueue = "default"\n',
        "[tool.strata.flows.m] needs entrypoint = 'PATH:FUNCTION'",
        id="entrypoint-missing",
    ),
    pytest.param(
        '[flows.m]\nentrypoint = "src/pkg/flows.py:materialize"\ntriggers = "strata.data.pushed"\n',
        "[tool.strata.flows.m].triggers = 'strata.data.pushed' must be a list of event names",
        id="triggers-type",
    ),
    pytest.param(
        '[flows.m]\nentrypoint = "src/pkg/flows.py:materialize"\nparameters = 3\n',
        "[tool.strata.flows.m].parameters = 3 must be a table",
        id="parameters-type",
    ),
    pytest.param(
        '[flows."bad name"]\nentrypoint = "src/pkg/flows.py:materialize"\n',
        "[tool.strata.flows.bad name] is not a valid name",
        id="flow-name",
    ),
]


@pytest.mark.parametrize(("toml", "message"), BAD)
def test_each_mistake_names_the_key_and_the_fix(root: Path, toml: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings(settings(toml), root)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text
    assert isinstance(caught.value, StrataError)


def test_a_function_nested_in_another_is_not_an_entrypoint(root: Path) -> None:
    (root / "src" / "pkg" / "nested.py").write_text("def outer():\n    def inner(): ...\n")
    table = settings('[flows.m]\nentrypoint = "src/pkg/nested.py:inner"\n')
    with pytest.raises(SettingsError, match="defines no function 'inner'"):
        parse_settings(table, root)


def test_unknown_flow_name_lists_the_configured_ones(root: Path) -> None:
    config = parse_settings(settings(GOOD), root)
    with pytest.raises(FlowNotFoundError, match="configured: materialize, retrain"):
        config.flow("publish")


def test_five_field_cron_expressions_prefect_accepts_pass(root: Path) -> None:
    for cron in ("*/5 * * * *", "0 6 * * mon-fri", "30 2 1 */2 *"):
        table = settings(
            f'[flows.m]\nentrypoint = "src/pkg/flows.py:materialize"\ncron = "{cron}"\n'
        )
        assert parse_settings(table, root).flow("m").cron == cron
