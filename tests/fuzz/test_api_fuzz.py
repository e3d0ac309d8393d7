"""Schemathesis against the schema as served at /api/schema/ by live_server: generated
requests, valid and invalid, to every operation, over real HTTP, with a paper account
on the simulated broker behind (tests/fuzz/world.py). A staff user never sees a 5xx or
an answer the schema does not document (status, content type, body: a 400 names only
the request's fields), and invalid input is refused with a 4xx; an anonymous caller
gets 403 and nothing else. bench/fuzz.py runs the same at 10,000 requests and more.

The smaller run here: 17 operations × 12 generated requests as staff (204) plus 17 × 3
anonymous (51); about 45 s on two cores, test database included."""

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz import world
from tests.fuzz.fuzzer import fuzz

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, reset_sequences=True, serialized_rollback=True)]
STAFF_EXAMPLES, ANONYMOUS_EXAMPLES = 12, 3
OPERATIONS = {
    "GET /api/hedge/status", "POST /api/hedge/toggle", "POST /api/hedge/manual/buy", "POST /api/hedge/manual/exit",
    "GET /api/hedge/transactions", "GET /api/hedge/transactions/{id}", "GET /api/hedge/schedule",
    "POST /api/hedge/schedule", "GET /api/hedge/schedule/{id}", "PUT /api/hedge/schedule/{id}",
    "PATCH /api/hedge/schedule/{id}", "DELETE /api/hedge/schedule/{id}", "GET /api/hedge/analytics",
    "GET /api/hedge/forecast", "GET /api/hedge/session", "POST /api/hedge/session", "GET /api/hedge/session/{id}",
}


@pytest.fixture
def served(live_server, simbroker_server, sim_clock, celery_eager, monkeypatch):
    """The world behind live_server; the served schema, loaded with a staff token."""
    monkeypatch.setenv(world.SIM_KEY_ENV, simbroker_server.api_key)
    world.seed(world.paper_account(simbroker_server.url), simbroker_server.sim)
    headers = {"Authorization": f"Token {world.staff_token()}"}
    return live_server.url, headers, schemathesis.openapi.from_url(f"{live_server.url}/api/schema/", headers=headers)


def test_staff_meets_no_5xx_and_no_undocumented_answer(served):
    url, headers, schema = served
    report = fuzz(schema, url, headers, STAFF_EXAMPLES * len(OPERATIONS))
    assert report.operations == OPERATIONS
    assert not report.counts, report.failures()
    assert 403 not in report.statuses  # staff may do everything the API offers
    successes = sum(n for status, n in report.statuses.items() if status < 300)
    assert successes >= report.requests // 10, report.statuses  # the fuzzer reached real rows, not only refusals


def test_anonymous_gets_403_and_no_data(served):
    url, _, schema = served
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    report = fuzz(schema, url, {}, ANONYMOUS_EXAMPLES * len(OPERATIONS), checks)
    assert not report.counts, report.failures()
    assert set(report.statuses) == {403}  # the documented 403 body is {"detail"} alone
