"""The REST API against its own OpenAPI document, fuzzed in-process with schemathesis.

Every operation of /api/v1/openapi.json is called as a salesperson and as an administrator
with requests generated from the document: valid ones, and invalid ones (wrong types,
missing fields, out-of-range numbers, unknown query parameters; every call carries the
role's token, and calls without one are test_authorization_matrix's). Path ids are
random or name real records (the role's own customer and its contact, transaction,
activity and job, and another team's customer), so that the operations run past their
404s. Every answer must be one the operation documents, with the shape the document gives
it: no server error, no undocumented status, no body or header that breaks the schema, an
invalid request refused; and a request the document calls valid is never refused for its
shape (only for a business rule, such as a customer that has transactions).

Each example runs in a savepoint that is rolled back, so every one starts from the same
records. The examples are bounded (EXAMPLES per operation, role and kind of request) and
derandomised, so `make test` runs the same requests every time; set KEHU_API_FUZZ_EXAMPLES
for a deeper run. An operation added later is fuzzed without editing this file; a path
parameter this file does not know makes it fail.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

# The documented surface is the same whatever the database: checked once, on SQLite.
pytestmark = pytest.mark.one_database

EXAMPLES = int(os.environ.get("KEHU_API_FUZZ_EXAMPLES", "20"))
ROLES = ["sales1", "admin"]
SCHEMA_URL = "/api/v1/openapi.json"

# Which record each path parameter names (as in test_authorization_matrix.PATH_PARAMS).
PATH_RECORDS = {
    "id": "customer",
    "contact_id": "contact",
    "transaction_id": "transaction",
    "activity_id": "activity",
    "job_id": "job",
    "loan_id": "loan",
    "task_id": "task",
    "plan_id": "account_plan",
    "receivable_id": "receivable",
    "lead_id": "lead",
    "consent_id": "consent",
    "opportunity_id": "opportunity",
    "survey_id": "survey",
    "campaign_id": "campaign",
    "list_id": "target_list",
    "ticket_id": "ticket",
    "article_id": "article",
    "offer_id": "offer_list",
}


def _operations() -> list[tuple[str, str]]:
    from kehu.api.api import api

    schema = api.get_openapi_schema()
    return [(method.upper(), path) for path, item in schema["paths"].items()
            for method in item if method in {"get", "post", "put", "patch", "delete"}]


def schema_valid_input_passes_validation(ctx, response, case) -> None:
    """A request the document calls valid may be refused for a business rule (422 from a
    service names only the field), never by the validation of its shape (which names where
    the value was: body, query, path): that would mean the document and the validator
    disagree about what the API takes."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return
    shape = [e for e in response.json().get("detail", []) if e.get("location")]
    assert not shape, f"A request valid by the schema was refused for its shape: {shape}"


_LOADED: dict[str, Any] = {}


def _schema(wsgi_app):
    """The document, read through the application once per worker: reading and parsing it
    costs more than the twenty calls of a test, and it is the same for every test."""
    if "schema" not in _LOADED:
        _LOADED["schema"] = schemathesis.openapi.from_wsgi(SCHEMA_URL, wsgi_app)
    return _LOADED["schema"]


@pytest.fixture
def wsgi_app():
    """kehu's WSGI application, called in this thread so that it sees the test's
    transaction. Like Django's test client, it must not close the connection at the end of
    each request."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def records(users, customers, children, loan_requests,
            plan_records) -> dict[str, dict[str, Any]]:
    from kehu.analytics.services import REFRESH_JOB
    from kehu.core.models import Job
    from kehu.service.knowledge.services import create_article
    from tests.conftest import make_campaigns, make_consents, make_leads, make_offer_lists
    from tests.service.surveys_factory import make_survey

    leads = make_leads(users, customers)
    consents = make_consents(users, customers)
    campaigns = make_campaigns(users, customers)
    offers = make_offer_lists(users, customers)
    return {key: {"customer": customers[key], **children[key], "loan": loan_requests[key],
                  **plan_records[key],
                  "lead": leads[key], "consent": consents[key],
                  "survey": make_survey(users["admin"], name=key),
                  # An article of the knowledge base (the firm's, no customer's).
                  "article": create_article(users["admin"], {
                      "title": f"打印机卡纸 {key}", "problem": "卡纸", "solution": "清理"}),
                  **campaigns[key], "offer_list": offers[key],
                  "job": Job.objects.create(kind=REFRESH_JOB, user=customers[key].owner)}
            for key in ("east", "north")}


@pytest.mark.parametrize(("method", "path"), _operations())
@pytest.mark.parametrize("role", ROLES)
def test_every_answer_is_documented(role, method, path, wsgi_app, tokens, users, records):
    if path.startswith("/api/v1/value/"):
        from kehu.analytics.refresh import refresh_values

        refresh_values(users["admin"])  # scores to read, a refresh to report on
    operation = _schema(wsgi_app)[path][method.lower()]
    names = [p.name for p in operation.path_parameters]
    unknown = set(names) - set(PATH_RECORDS)
    assert not unknown, f"{path}: add the path parameters {unknown} to PATH_RECORDS"
    headers = {"Authorization": f"Bearer {tokens[role]}"}
    # Valid and invalid requests in one test: the records cost more to build than the calls.
    # An operation that takes nothing but the token has no invalid request to send.
    takes = len(operation.path_parameters) + len(operation.query) + len(operation.body)
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)[:2 if takes else 1]:
        # The token is fixed, not generated: an invalid request leaving it out would be
        # sent with it, and valid.
        strategies = [operation.as_strategy(generation_mode=mode, headers=headers)]
        for key in ("east", "north"):
            if names:
                strategies.append(operation.as_strategy(
                    generation_mode=mode, headers=headers,
                    path_parameters={n: records[key][PATH_RECORDS[n]].pk for n in names}))

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=st.one_of(strategies))
        def call(case):
            with transaction.atomic():
                case.call_and_validate(headers=headers,
                                       excluded_checks=[positive_data_acceptance],
                                       additional_checks=[schema_valid_input_passes_validation])
                transaction.set_rollback(True)

        call()


def test_the_fuzzer_knows_every_operation():
    """The generated list is the document's: no operation is skipped."""
    operations = _operations()
    assert ("GET", "/api/v1/customers") in operations
    assert ("PATCH", "/api/v1/customers/{id}") in operations
    assert len(operations) == len(set(operations)) >= 20
