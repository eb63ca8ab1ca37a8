"""schemathesis against the ASGI app: generated requests to every operation of the OpenAPI
document, each answer checked by all of schemathesis's checks (no server error, documented
status code and content type, headers and body conforming to the response schema, ...).

schemathesis's own pytest integration (``schemathesis.pytest.from_fixture``) does not run
under pytest 9 (it sets ``Node._nodeid``), so each operation's strategy is driven here, one
subtest per operation."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

from paperfeed.web.openapi import OPENAPI_PATH

EXAMPLES_PER_OPERATION = 40
PERIODS = ("date", "week", "month")


def follows_documented_rules(case: schemathesis.Case) -> bool:
    """The rules between parameters that OpenAPI cannot state, as the routes document them:
    one of date, week and month at most; a window's `since` not after its `until`."""
    query = case.query or {}
    if sum(1 for name in PERIODS if query.get(name)) > 1:
        return False
    since, until = query.get("since"), query.get("until")
    return not (since and until and str(since) > str(until))


def check_operation(operation: schemathesis.APIOperation) -> None:
    @given(case=operation.as_strategy().filter(follows_documented_rules))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def conforms(case: schemathesis.Case) -> None:
        case.call_and_validate()

    conforms()


def test_every_operation_conforms_to_its_schema(app: FastAPI, subtests: pytest.Subtests) -> None:
    schema = schemathesis.openapi.from_asgi(OPENAPI_PATH, app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7
    for operation in operations:
        with subtests.test(operation.label):
            check_operation(operation)
