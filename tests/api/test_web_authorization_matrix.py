"""The permission matrix of the web pages, generated from the URL resolver.

Every URL that names a customer (or its contact, transaction or activity) is requested, with
GET and POST, as every role, with records of a customer the role may not see: each answers
404 (or 405 for a method the page never takes, whatever the id). Every page without
parameters leaves that customer's name out. A URL added later is covered without editing
this file; a URL parameter this file does not know makes it fail.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ROLES = ["manager1", "sales1", "service1", "marketing1", "analyst1", "manager2", "sales2",
         "sales1b"]

URL_PARAMS = {
    "pk": "customer",
    "contact_pk": "contact",
    "txn_pk": "transaction",
    "activity_pk": "activity",
    "loan_pk": "loan",
    "task_pk": "task",
    "plan_pk": "account_plan",
    "sheet_pk": "plan_competitor",
    "step_pk": "plan_step",
    "receivable_pk": "receivable",
    "lead_pk": "lead",
    "opportunity_pk": "opportunity",
    "campaign_pk": "campaign",
    "list_pk": "target_list",
    "ticket_pk": "ticket",
}

# Namespaces outside the matrix: the admin site is for staff and the API has its own matrix.
SKIPPED_NAMESPACES = {"admin", "api"}
# URLs whose parameters name something other than a customer's records.
NOT_CUSTOMER_URLS = {
    "api_token_revoke",  # a personal API token of the signed-in user
    "set_language",
    "job",  # a background job: only the user who started it (or an admin) sees it
    # The import wizard's uploads and batches belong to the user who made them
    # (tests/dataio/test_dataio_web.py).
    "import_columns", "import_preview", "import_run", "import_status", "batch", "batch_undo",
    "quality_run",
    # A pair of likely duplicates, reachable only when both records are visible
    # (tests/dataio/test_dedup.py).
    "duplicate_pair", "duplicate_dismiss",
    # The value dashboard's tables and the value settings name a table, an activity kind or
    # a segment; each is scoped to the user (tests/analytics/test_value_web.py).
    "table_csv", "activity_cost", "segment_action",
    # A list of the value dashboard (its customers as the user may see them) whose owners
    # get tasks (tests/analytics/test_list_tasks.py).
    "list_tasks",
    # The pipeline's stages and the firm's competitors: settings, not customers' records
    # (tests/sales/test_pipeline.py).
    "stage", "stage_delete", "competitor", "competitor_delete",
    # The public unsubscribe page: its signed token is the permission, and the page names
    # nobody (tests/marketing/test_consent_sending.py).
    "unsubscribe",
    # A survey's questions (settings), and the public page of a survey's signed link, which
    # is no customer's record for a signed-in user (tests/service/test_surveys.py).
    "survey_edit", "survey_answer",
    # A holiday of the firm's service hours: settings (tests/service/sla/test_policies.py).
    "sla_holiday_delete",
    # The firm's ticket categories: settings, not customers' records
    # (tests/service/test_tickets_web.py).
    "category_delete",
    # An article of the knowledge base: the firm's know-how, no customer's record; every
    # signed-in user reads it, service staff and managers edit it
    # (tests/service/test_knowledge_web.py).
    "article", "article_edit",
    # Linking a ticket to an article: the ticket is named in the form and looked up in the
    # user's scope (tests/service/test_knowledge_tickets.py).
    "article_link_ticket", "article_unlink_ticket",
    # A coupon tier: a setting of one-to-one offers, for admins (offer settings page).
    "coupon_tier",
}
# Pages for privacy officers only: 404 for every role here even on its own customers, so they
# stay in the "out of reach" test and skip the "own pages answer" one
# (tests/dataio/test_privacy.py covers them per role).
PRIVACY_URLS = {"privacy_customer", "privacy_customer_export", "privacy_customer_erase",
                "privacy_contact_export", "privacy_contact_erase"}


def _walk(patterns, namespace: str = "", route: str = ""):
    """(name for reverse(), parameter names, route) of every named URL."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            if ns in SKIPPED_NAMESPACES:
                continue
            prefix = f"{namespace}{ns}:" if ns else namespace
            yield from _walk(entry.url_patterns, prefix, route + str(entry.pattern))
        elif isinstance(entry, URLPattern) and entry.name:
            names = list(entry.pattern.converters) if hasattr(entry.pattern, "converters") \
                else list(entry.pattern.regex.groupindex)
            yield f"{namespace}{entry.name}", names, route + str(entry.pattern)


def _urls() -> list[tuple[str, list[str], str]]:
    return [u for u in _walk(get_resolver().url_patterns)
            if u[0].rsplit(":", 1)[-1] not in NOT_CUSTOMER_URLS]


def _hidden_from(role: str) -> str:
    return {"manager2": "east", "sales2": "east", "sales1b": "east"}.get(role, "north")


@pytest.fixture
def records(users, customers, children, loan_requests, plan_records
            ) -> dict[str, dict[str, Any]]:
    from tests.conftest import make_campaigns, make_leads

    leads = make_leads(users, customers)
    campaigns = make_campaigns(users, customers)
    return {key: {"customer": customers[key], **children[key], "loan": loan_requests[key],
                  **plan_records[key], "lead": leads[key], **campaigns[key]}
            for key in customers}


def test_matrix_knows_every_url_parameter():
    unknown = {(name, param) for name, params, _route in _urls() for param in params
               if param not in URL_PARAMS}
    assert not unknown, ("add these URL parameters to URL_PARAMS, or the URL to "
                         f"NOT_CUSTOMER_URLS: {sorted(unknown)}")


def test_the_web_has_customer_urls():
    with_customer = [name for name, params, _route in _urls() if "pk" in params]
    assert len(with_customer) >= 2, with_customer


@pytest.mark.parametrize("role", ROLES)
def test_no_page_reaches_a_customer_out_of_reach(role, client, users, records, customers):
    hidden = records[_hidden_from(role)]
    client.force_login(users[role])
    for name, params, _route in _urls():
        if not params:
            continue
        url = reverse(name, kwargs={p: hidden[URL_PARAMS[p]].pk for p in params})
        # A method the view does not take answers 405 whatever the id, which reveals
        # nothing; the method it takes must answer 404.
        codes = {method: getattr(client, method)(url).status_code for method in ("get", "post")}
        assert set(codes.values()) <= {404, 405} and 404 in codes.values(), (role, url, codes)
    customer = customers[_hidden_from(role)]
    customer.refresh_from_db()
    assert customer.version == 1
    for record in hidden.values():
        assert type(record).objects.filter(pk=record.pk).exists()


@pytest.mark.parametrize("role", ROLES)
def test_no_list_page_shows_a_customer_out_of_reach(role, client, users, customers):
    hidden = customers[_hidden_from(role)]
    client.force_login(users[role])
    seen = 0
    for name, params, _route in _urls():
        if params:
            continue
        response = client.get(reverse(name))
        if response.status_code != 200 or not response.get("Content-Type", "").startswith(
                "text/html"):
            continue
        seen += 1
        assert hidden.name not in response.content.decode(), (role, name)
    assert seen, "at least the customer list answers"


def test_own_customer_pages_answer(client, users, records):
    """The 404s above come from the permission check, not from wrong urls."""
    client.force_login(users["manager1"])
    for name, params, _route in _urls():
        if params and name.rsplit(":", 1)[-1] not in PRIVACY_URLS:
            url = reverse(name, kwargs={p: records["east"][URL_PARAMS[p]].pk for p in params})
            assert client.get(url).status_code in (200, 302, 405), (name, url)


def test_customer_list_shows_what_the_role_may_see(client, users, customers):
    client.force_login(users["admin"])
    response = client.get(reverse("customers:list"))
    assert response.status_code == 200
    for customer in customers.values():
        assert customer.name in response.content.decode()
