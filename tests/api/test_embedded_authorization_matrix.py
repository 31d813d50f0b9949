"""The permission matrix of what a page or an API answer shows INSIDE it: a card lists its
referrers and the customers it brought, the data-quality pages pair likely duplicates, the
value dashboard and its tables name customers, exports list them. Every role opens every
page and API answer it may reach, about every customer it may see, while those customers
are entangled with customers out of its reach (referrals both ways, duplicate pairs across
teams, scores of both): no name of a customer or contact out of reach, and no link to one,
appears anywhere.

The pages come from the URL resolver (as in test_web_authorization_matrix) and the API
operations from the OpenAPI schema (as in test_authorization_matrix), so a page or an
operation added later is opened without editing this file. A page parameter this file does
not know makes it fail; the query strings each page is opened with are listed in QUERIES.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import get_resolver, reverse

from tests.api import test_authorization_matrix as api_matrix
from tests.api import test_web_authorization_matrix as web_matrix

ROLES = web_matrix.ROLES

# Query strings each page is also opened with: every tab of the card, both kinds of pair,
# searches for the names out of reach ({hidden} is the first characters of each).
QUERIES = {
    "customers:card": [f"?tab={tab}" for tab in (
        "base", "characteristics", "business", "transaction", "contacts", "transactions",
        "activities", "history", "value")],
    "customers:list": ["?q={hidden}"],
    "analytics:referrer_options": ["?referrer={hidden}"],
    "dataio:duplicates": ["?kind=customers", "?kind=contacts"],
    "dataio:export_download": ["?what=customers&format=csv", "?what=transactions&format=csv"],
    "dataio:privacy": ["?q={hidden}"],
    "workbench:home": ["?week=2024-06-03"],
}
# Parameters that name something other than a customer's records, and the values to open
# the page with.
OTHER_PARAMS = {
    "table": "value tables",  # analytics.views.TABLES and the migration tables
    "kind": "duplicate pairs",  # with pair_id
    "pair_id": "duplicate pairs",
    "article_pk": "knowledge-base articles",
}
# Pages that are about something other than customers and show none.
SKIPPED = {"set_language", "login", "logout", "api_tokens", "api_token_revoke", "core:job",
           "dataio:import_columns", "dataio:import_preview", "dataio:import_run",
           "dataio:import_status", "dataio:batch", "dataio:batch_undo", "dataio:quality_run",
           "dataio:duplicate_dismiss", "analytics:activity_cost", "analytics:segment_action",
           "analytics:list_tasks", "sales:stage", "sales:stage_delete", "sales:competitor",
           "sales:competitor_delete",
           # Settings (a survey's questions, a holiday, a ticket category, a coupon tier)
           # and the public pages of signed links, which name nobody.
           "service:survey_edit", "service:sla_holiday_delete", "service:category_delete",
           "service:survey_answer", "marketing:unsubscribe", "marketing:coupon_tier"}


@pytest.fixture
def entangled(users, customers, children, loan_requests, plan_records) -> dict[str, Any]:
    """east was referred by north and brought north and east_b; likely duplicate pairs join
    east with north (customers and contacts) and east with east_b; every customer is
    scored."""
    from django.utils import timezone

    from kehu.analytics.refresh import refresh_values
    from kehu.analytics.services import record_referral
    from kehu.dataio.models import ContactPair, CustomerPair

    admin = users["admin"]
    east, east_b, north = customers["east"], customers["east_b"], customers["north"]
    day = dt.date(2024, 6, 1)
    record_referral(admin, east, north, referred_on=day, note="met at the fair")
    record_referral(admin, north, east, referred_on=day)
    record_referral(admin, east_b, east, referred_on=day)
    now = timezone.now()
    for x, y in ((east, north), (east, east_b), (east_b, north)):
        a, b = sorted((x, y), key=lambda c: c.pk)
        CustomerPair.objects.create(a=a, b=b, score=90, found_at=now,
                                    reasons=[{"code": "name", "value": 90}])
        ca, cb = children[_key(customers, a)]["contact"], children[_key(customers, b)]["contact"]
        ContactPair.objects.create(a=ca, b=cb, score=80, found_at=now,
                                   reasons=[{"code": "same_customer"}])
    refresh_values(admin)
    from tests.conftest import make_campaigns, make_consents, make_leads, make_offer_lists

    leads = make_leads(users, customers)
    consents = make_consents(users, customers)
    campaigns = make_campaigns(users, customers)
    offers = make_offer_lists(users, customers)
    return {key: {"customer": customers[key], **children[key], "loan": loan_requests[key],
                  **plan_records[key], "lead": leads[key], "consent": consents[key],
                  **campaigns[key], "offer_list": offers[key]}
            for key in customers}


def _key(customers, customer) -> str:
    return next(k for k, c in customers.items() if c.pk == customer.pk)


def _split(user, entangled) -> tuple[list[dict], list[dict]]:
    """The records of the customers the user may see, and of those out of reach."""
    from kehu.customers.selectors import customers

    visible = set(customers(user).values_list("pk", flat=True))
    seen = [r for r in entangled.values() if r["customer"].pk in visible]
    hidden = [r for r in entangled.values() if r["customer"].pk not in visible]
    return seen, hidden


def _leaks(text: str, hidden: list[dict]) -> list[str]:
    found = []
    for records in hidden:
        customer, contact = records["customer"], records["contact"]
        for label, name in (("the name", customer.name), ("the contact", contact.name)):
            if re.search(re.escape(name) + r"(?!\w)", text):
                found.append(f"{label} {name}")
        if re.search(rf"/customers/{customer.pk}/(?!\d)", text):
            found.append(f"a link to /customers/{customer.pk}/")
    return found


def _other_param_urls(name: str, params: list[str], user) -> list[str]:
    """Urls of a page whose parameters name value tables or duplicate pairs."""
    if params == ["table"]:
        from kehu.analytics.views import MIGRATION_TABLES, TABLES

        return [reverse(name, kwargs={"table": t}) for t in [*TABLES, *MIGRATION_TABLES]]
    if set(params) == {"kind", "pair_id"}:
        from kehu.dataio.quality import dedup

        return [reverse(name, kwargs={"kind": kind, "pair_id": pair.pk})
                for kind, pairs in (("customers", dedup.customer_pairs(user)),
                                    ("contacts", dedup.contact_pairs(user)))
                for pair in pairs]
    if params == ["article_pk"]:
        from kehu.service.knowledge.selectors import articles

        return [reverse(name, kwargs={"article_pk": a.pk}) for a in articles(user)]
    pytest.fail(f"{name}: parameters {params} unknown to the embedded matrix; add them to "
                f"OTHER_PARAMS, or the page to SKIPPED")


def _pages(user, seen: list[dict], hidden: list[dict]) -> list[str]:
    prefixes = [r["customer"].name[:2] for r in hidden] or ["x"]
    urls = []
    for name, params, _route in web_matrix._walk(get_resolver().url_patterns):
        if name in SKIPPED:
            continue
        if not params:
            bases = [reverse(name)]
        elif set(params) <= set(web_matrix.URL_PARAMS):
            bases = [reverse(name, kwargs={p: records[web_matrix.URL_PARAMS[p]].pk
                                           for p in params}) for records in seen]
        elif set(params) <= set(OTHER_PARAMS):
            bases = _other_param_urls(name, params, user)
        else:
            pytest.fail(f"{name}: parameters {params} unknown to the embedded matrix")
        for base in bases:
            urls.append(base)
            urls += [base + q.format(hidden=h) for q in QUERIES.get(name, [])
                     for h in prefixes]
    return urls


@pytest.mark.parametrize("role", ROLES)
def test_no_page_shows_a_customer_out_of_reach_inside_another(role, client, users, entangled):
    user = users[role]
    seen, hidden = _split(user, entangled)
    assert seen and hidden, role
    client.force_login(user)
    opened = set()
    for url in _pages(user, seen, hidden):
        response = client.get(url)
        if response.status_code != 200:
            continue
        body = b"".join(response.streaming_content) if response.streaming else (
            response.content)
        text = body.decode("utf-8", errors="replace")
        leaks = _leaks(text, hidden)
        assert not leaks, (role, url, leaks)
        opened.add(url.split("?")[0])
    # The pages that embed other customers were really opened, not skipped by a 404.
    east_like = seen[0]["customer"].pk
    assert reverse("customers:card", args=[east_like]) in opened, role
    assert reverse("dataio:duplicates") in opened, role


@pytest.mark.parametrize("role", ROLES)
def test_no_api_answer_shows_a_customer_out_of_reach_inside_another(role, api, client, users,
                                                                    entangled):
    user = users[role]
    seen, hidden = _split(user, entangled)
    schema = client.get("/api/v1/openapi.json").json()
    caller = api(role)
    answered = 0
    for method, path, op in api_matrix._operations(schema):
        if method != "GET":
            continue
        names = api_matrix._path_params(path, op)
        targets = [api_matrix._url(path, op, records) for records in seen] if names else [path]
        for url in targets:
            response = caller.get(url)
            if response.status_code != 200:
                continue
            answered += 1
            assert not _leaks(response.content.decode(), hidden), (role, url)
    assert answered >= 10, role


def test_the_card_says_a_referrer_is_out_of_reach_without_naming_it(client, users, entangled):
    east, north = entangled["east"]["customer"], entangled["north"]["customer"]
    client.force_login(users["sales1"])
    page = client.get(reverse("customers:card", args=[east.pk]) + "?tab=value")
    text = page.content.decode()
    assert "a customer you may not see" in text
    assert north.name not in text and "met at the fair" in text
    # The teammate east_b it brought is out of sales1's reach too (sales do not share in
    # team East); a manager of the team sees it by name, but not the other team's.
    client.force_login(users["manager1"])
    text = client.get(reverse("customers:card", args=[east.pk]) + "?tab=value").content.decode()
    assert entangled["east_b"]["customer"].name in text and north.name not in text
    client.force_login(users["admin"])
    text = client.get(reverse("customers:card", args=[east.pk]) + "?tab=value").content.decode()
    assert north.name in text and "a customer you may not see" not in text
