"""Every read of customer data is in the audit log, generated from the OpenAPI schema and the
URL resolver like the permission matrices (tests/api/test_*authorization_matrix.py).

Each GET of the API and of the web is made on records of the fixture customers; whatever
customers the answer shows must be named by the audit rows that request wrote: a card or
one customer's records by the row's customer id, a list by the ids in its detail (one row
for the whole list). An operation or a page added later is covered without editing this
file; one that shows no customer data must be listed below with the reason, and a path or
URL parameter this file does not know makes it fail.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from kehu.audit.models import AuditEvent
from kehu.customers import card

# API --------------------------------------------------------------------------------------

API_PATH_PARAMS = {"id": "customer", "contact_id": "contact", "transaction_id": "transaction",
                   "activity_id": "activity", "task_id": "task",
                   "plan_id": "account_plan", "receivable_id": "receivable",
                   "lead_id": "lead", "opportunity_id": "opportunity",
                   "consent_id": "consent", "campaign_id": "campaign",
                   "list_id": "target_list", "ticket_id": "ticket",
                   "offer_id": "offer_list"}
# GET operations that show no customer's data, and why.
API_NOT_CUSTOMER_DATA = {
    "/api/v1/value/refresh": "the latest refresh: its fitted parameters and warnings",
    "/api/v1/value/jobs/{job_id}": "the progress of a refresh job",
    "/api/v1/value/segments": "counts of customers by segment and quadrant",
    "/api/v1/value/equity": "sums of CLV by month, segment, team and owner",
    "/api/v1/value/migration": "the transition matrix between states and its forecast",
    "/api/v1/opportunity-stages": "the pipeline's stages and their win probabilities",
    "/api/v1/surveys": "the firm's surveys and their questions",
    "/api/v1/surveys/{survey_id}": "one survey and its questions",
    "/api/v1/survey-results": "means and shares of survey answers by month, segment and owner",
    "/api/v1/campaigns": "campaigns: names, budgets, settings; no customer",
    "/api/v1/campaigns/{campaign_id}": "a campaign and its results: counts and sums",
    "/api/v1/target-lists": "target lists: names, filters and counts; no customer",
    "/api/v1/target-lists/{list_id}": "a target list: its filter and its count",
    "/api/v1/articles": "the knowledge base's articles: the firm's know-how",
    "/api/v1/articles/{article_id}": "an article of the knowledge base",
}


@pytest.fixture
def schema(client) -> dict:
    return client.get("/api/v1/openapi.json").json()


@pytest.fixture
def records(customers, children, users, plan_records) -> dict[str, dict[str, Any]]:
    from kehu.analytics.refresh import refresh_values

    refresh_values(users["admin"])  # every customer has value scores to read
    # The loan lists name the customer lent (sales2 borrows sales1's East customer).
    from kehu.loans.services import approve_loan, request_loan

    loan = request_loan(users["sales2"], customers["east"].external_id or
                        customers["east"].name, "a joint offer")
    approve_loan(users["sales1"], loan)
    from tests.conftest import make_campaigns, make_consents, make_leads, make_offer_lists

    leads = make_leads(users, customers)
    consents = make_consents(users, customers)
    campaigns = make_campaigns(users, customers)
    offers = make_offer_lists(users, customers)
    return {key: {"customer": customers[key], **children[key], **plan_records[key],
                  "lead": leads[key], "consent": consents[key],
                  **campaigns[key], "offer_list": offers[key]}
            for key in customers}


def _gets(schema: dict) -> list[tuple[str, list[str]]]:
    return [(path, [p["name"] for p in item["get"].get("parameters", []) if p["in"] == "path"])
            for path, item in schema["paths"].items() if "get" in item]


def _last_event() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _named(events: list[AuditEvent]) -> set[int]:
    """The customers a request's audit rows name."""
    out: set[int] = set()
    for event in events:
        if event.customer_id:
            out.add(event.customer_id)
        out.update(event.detail.get("customers", []))
    return out


def _shown_by_api(path: str, payload: Any, record_customer: int | None) -> set[int]:
    shown = {record_customer} if record_customer else set()
    items = payload["items"] if isinstance(payload, dict) and "items" in payload else (
        payload if isinstance(payload, list) else [payload])
    for item in items:
        if path == "/api/v1/customers":
            shown.add(item["id"])
        elif path.startswith("/api/v1/leads"):
            # A lead names the customer who referred it and the one it became.
            shown.update(i for i in (item["referrer"], item["customer"]) if i)
        elif isinstance(item, dict) and item.get("customer"):
            shown.add(item["customer"])  # null: about a lead, no customer yet
    return shown


def test_the_api_exemptions_name_operations_that_exist(schema):
    assert set(API_NOT_CUSTOMER_DATA) <= {path for path, _params in _gets(schema)}


@pytest.mark.parametrize("role", ["admin", "manager1", "sales1", "service1"])
def test_every_api_read_of_customer_data_is_audited(role, api, schema, records, users):
    client = api(role)
    read = 0
    for path, params in _gets(schema):
        if path in API_NOT_CUSTOMER_DATA:
            continue
        url = path
        for name in params:
            if name not in API_PATH_PARAMS:
                pytest.fail(f"{path}: path parameter {{{name}}} is unknown here; add it to "
                            f"API_PATH_PARAMS, or the operation to API_NOT_CUSTOMER_DATA")
            url = url.replace("{" + name + "}", str(records["east"][API_PATH_PARAMS[name]].pk))
        before = _last_event()
        response = client.get(url)
        if response.status_code == 403 and not users[role].sees_sensitive:
            # The sensitive tier (credit) refused to a role without it: nothing was read.
            assert not AuditEvent.objects.filter(pk__gt=before).exists(), url
            continue
        assert response.status_code == 200, (role, url, response.content)
        events = list(AuditEvent.objects.filter(pk__gt=before))
        assert len(events) == 1, (role, url, [e.action for e in events])
        event = events[0]
        assert event.username == role and event.via == "api", (role, url)
        shown = _shown_by_api(path, response.json(),
                              records["east"]["customer"].pk if params else None)
        assert shown <= _named(events), (role, url, shown, event.detail)
        if not params:
            assert event.action == "customer.list" and "filter" in event.detail, url
        read += 1
    assert read >= 12


def test_a_list_names_its_filter_and_the_customers_shown(api, records, customers, users):
    east = customers["east"]
    owner = users["sales1"].pk
    response = api("admin").get("/customers", q="华东", owner=owner)
    assert [c["id"] for c in response.json()["items"]] == [east.pk]
    event = AuditEvent.objects.latest("pk")
    assert event.action == "customer.list" and event.customer_id == east.pk
    assert event.detail == {"list": "customers", "filter": {"q": "华东", "owner": owner},
                            "customers": [east.pk]}
    api("manager1").get("/transactions", customer=east.pk, date_from="2024-01-01")
    event = AuditEvent.objects.latest("pk")
    assert event.username == "manager1" and event.customer_id == east.pk
    assert event.detail == {"list": "transactions",
                            "filter": {"customer": east.pk, "date_from": "2024-01-01"},
                            "customers": [east.pk]}


def test_600_cards_read_in_3_calls_are_3_audit_rows_naming_600_customers(api, users):
    """The reported case: a manager pages through the whole list, sensitive tier included."""
    from kehu.customers.models import Customer

    manager = users["manager1"]
    Customer.objects.bulk_create([
        Customer(name=f"Card {i:03d}", owner=users["sales1"], team_id=manager.team_id,
                 credit_rating="good") for i in range(600)])
    client = api("manager1")
    before = _last_event()
    cursor, seen = "", []
    for _ in range(3):
        page = client.get("/customers", limit=200, cursor=cursor).json()
        assert all(item["credit_rating"] == "good" for item in page["items"])
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"] or ""
    assert len(seen) == 600 and not cursor
    events = list(AuditEvent.objects.filter(pk__gt=before))
    assert [e.action for e in events] == ["customer.list"] * 3
    assert sorted(c for e in events for c in e.detail["customers"]) == sorted(seen)


def test_a_list_is_one_insert_whatever_its_length(api, users):
    """No query per row for the audit: a page of 200 costs what a page of 2 costs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kehu.customers.models import Customer

    Customer.objects.bulk_create([
        Customer(name=f"Card {i:03d}", owner=users["sales1"], team_id=users["sales1"].team_id)
        for i in range(200)])
    client = api("manager1")
    client.get("/customers", limit=1)  # the first request of a token does more
    counts = []
    for limit in (2, 200):
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/customers", limit=limit).status_code == 200
        counts.append(len(queries))
        inserts = [q for q in queries if q["sql"].startswith('INSERT INTO "audit_auditevent"')]
        assert len(inserts) == 1
    assert counts[0] == counts[1]


# Web --------------------------------------------------------------------------------------

WEB_URL_PARAMS = {"pk": "customer", "contact_pk": "contact", "txn_pk": "transaction",
                  "activity_pk": "activity", "pair_id": "pair", "loan_pk": "loan",
                  "task_pk": "task", "plan_pk": "account_plan",
                  "sheet_pk": "plan_competitor", "step_pk": "plan_step",
                  "receivable_pk": "receivable", "lead_pk": "lead",
                  "opportunity_pk": "opportunity", "campaign_pk": "campaign",
                  "list_pk": "target_list", "ticket_pk": "ticket"}
# Other parameters, by URL: the values to try.
WEB_PARAM_VALUES = {
    "analytics:table_csv": {"table": ["equity", "equity_segment", "equity_team",
                                      "equity_owner", "segments", "quadrants", "matrix",
                                      "whale", "at_risk", "unprofitable", "markov",
                                      "forecast", "churn", "models", "repeat_purchases"]},
    "dataio:duplicate_pair": {"kind": ["customers"]},
    "dataio:duplicate_dismiss": {"kind": ["customers"]},
}
# The query a page needs to show anything, or each of its parts.
WEB_QUERIES = {
    "customers:card": [{"tab": tab.key} for tab in card.tabs()],
    "dataio:export_download": [{"what": "customers", "format": "csv"},
                               {"what": "transactions", "format": "csv"}],
    "dataio:privacy": [{"q": "Hangzhou"}],
    "analytics:referrer_options": [{"referrer": "Hangzhou"}],
    "dataio:duplicates": [{}, {"kind": "contacts"}],
}
# Pages that show no customer's data, and why.
WEB_NOT_CUSTOMER_DATA = {
    "audit:events": "the audit log itself, for administrators",
    "core:job": "a background job's progress",
    "api_token_revoke": "a personal API token of the signed-in user",
    "dataio:import_columns": "the user's own uploaded file, before anything is imported",
    "dataio:import_preview": "the user's own uploaded file, before anything is imported",
    "dataio:import_run": "the user's own uploaded file, before anything is imported",
    "dataio:import_status": "the progress of the user's own import",
    "dataio:batch": "an import batch: its file name and counts",
    "dataio:batch_undo": "an import batch: its file name and counts",
    "dataio:quality_run": "starts a scan; answers POST only",
    "analytics:activity_cost": "an activity kind's unit cost; answers POST only",
    "analytics:segment_action": "a segment's treatment; answers POST only",
    "analytics:list_tasks": "tasks for the owners of a list's customers; answers POST only",
    "analytics:models": "the purchase models compared on the holdout: sums over the whole base",
    "sales:stage": "a pipeline stage; answers POST only",
    "sales:stage_delete": "a pipeline stage; answers POST only",
    "sales:competitor": "a competitor; answers POST only",
    "sales:competitor_delete": "a competitor; answers POST only",
    "marketing:unsubscribe": "the public unsubscribe page: names nobody; the opt-out is "
                             "audited as a write",
    "service:survey_edit": "a survey's questions",
    "service:survey_answer": "the public page of a survey link: the questions, no customer",
    "service:sla_holiday_delete": "a holiday of the firm's service hours; answers POST only",
    "service:categories": "the firm's ticket categories: names only",
    "service:category_delete": "a ticket category; answers POST only",
    "service:article": "an article of the knowledge base: the firm's know-how; the tickets "
                       "it solved are a list read of their own "
                       "(tests/service/test_knowledge_tickets.py)",
    "service:article_link_ticket": "links a ticket to an article; answers POST only",
    "service:article_unlink_ticket": "takes a ticket off an article; answers POST only",
    "service:article_from_ticket": "writes an article from a ticket; answers POST only",
    "service:article_edit": "an article of the knowledge base: the firm's know-how",
    "marketing:offers_build_due": "builds the lists now due; answers POST only",
    "marketing:offers_email_due": "e-mails the current lists as a job; answers POST only",
    "marketing:offer_settings": "the offer settings and the coupon tiers",
    "marketing:coupon_tier": "a coupon tier",
    "marketing:coupon_tier_create": "a new coupon tier",
}
SKIPPED_NAMESPACES = {"admin", "api"}


def _walk(patterns, namespace: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in SKIPPED_NAMESPACES:
                continue
            prefix = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", list(entry.pattern.converters)


def _web_urls() -> list[tuple[str, list[str]]]:
    return [(name, params) for name, params in _walk(get_resolver().url_patterns)
            if name not in WEB_NOT_CUSTOMER_DATA]


def _kwargs(name: str, params: list[str], records: dict) -> list[dict[str, Any]]:
    options: list[dict[str, Any]] = [{}]
    for param in params:
        if param in WEB_URL_PARAMS:
            values = [records[WEB_URL_PARAMS[param]].pk]
        elif param in WEB_PARAM_VALUES.get(name, {}):
            values = WEB_PARAM_VALUES[name][param]
        else:
            pytest.fail(f"{name}: URL parameter {param} is unknown here; add it to "
                        f"WEB_URL_PARAMS or WEB_PARAM_VALUES, or the URL to "
                        f"WEB_NOT_CUSTOMER_DATA")
        options = [{**o, param: v} for o in options for v in values]
    return options


def _customer_of(record) -> int | None:
    if record._meta.label_lower in ("marketing.campaign", "marketing.targetlist"):
        return None  # about many customers: the page names those it shows
    plan = getattr(record, "plan", None)  # a key-account plan's competitor sheet or step
    if plan is not None:
        return plan.customer_id
    # A lead's page names the customer who referred it.
    return (getattr(record, "customer_id", None) or getattr(record, "referrer_id", None)
            or getattr(record, "a_id", None) or record.pk)


@pytest.fixture
def web_records(records, customers, users):
    from django.utils import timezone

    from kehu.analytics.models import Referral
    from kehu.dataio.models import CustomerPair

    # The card's value tab names the customer who referred this one.
    Referral.objects.create(referrer=customers["east_b"], referred=customers["east"],
                            referred_on=timezone.localdate())
    officer = users["admin"]
    officer.privacy_officer = True
    officer.save()
    a, b = sorted([customers["east"], customers["east_b"]], key=lambda c: c.pk)
    pair = CustomerPair.objects.create(a=a, b=b, score=80, found_at=timezone.now(),
                                       reasons=[{"code": "name", "value": 80}])
    from kehu.loans.models import Loan

    return {**records["east"], "pair": pair, "loan": Loan.objects.get(customer=customers["east"])}


def _names_in(body: str, customers) -> set[int]:
    """The fixture customers whose names the page shows (as text, or in JSON)."""
    return {c.pk for c in customers.values()
            if c.name in body or json.dumps(c.name)[1:-1] in body}


def test_the_web_exemptions_name_urls_that_exist():
    names = {name for name, _params in _walk(get_resolver().url_patterns)}
    assert set(WEB_NOT_CUSTOMER_DATA) <= names
    assert set(WEB_PARAM_VALUES) | set(WEB_QUERIES) <= names


def test_every_page_that_shows_customer_data_audits_it(client, users, web_records, customers):
    client.force_login(users["admin"])
    read = 0
    for name, params in _web_urls():
        for kwargs in _kwargs(name, params, web_records):
            url = reverse(name, kwargs=kwargs)
            for query in WEB_QUERIES.get(name, [{}]):
                before = _last_event()
                response = client.get(url, query)
                if response.status_code != 200:
                    continue  # a form that only takes POST, or a redirect
                body = b"".join(response) if response.streaming else response.content
                shown = _names_in(body.decode("utf-8-sig", errors="replace"), customers)
                shown |= {_customer_of(web_records[WEB_URL_PARAMS[p]])
                          for p in params if p in WEB_URL_PARAMS} - {None}
                events = list(AuditEvent.objects.filter(pk__gt=before))
                if shown:
                    read += 1
                    assert events, (url, query, "shows customers and writes no audit row")
                    assert all(e.username == "admin" and e.via == "web" for e in events)
                    assert shown <= _named(events), (url, query, shown,
                                                     [(e.action, e.detail) for e in events])
    assert read >= 20


def test_the_customer_list_writes_one_row_naming_the_customers_and_the_filter(client, users,
                                                                             customers):
    client.force_login(users["manager1"])
    before = _last_event()
    response = client.get(reverse("customers:list"), {"state": "potential", "sort": "created"})
    assert response.status_code == 200
    events = list(AuditEvent.objects.filter(pk__gt=before))
    assert len(events) == 1 and events[0].action == "customer.list"
    assert events[0].detail == {"list": "customers", "filter": {"state": "potential"},
                                "customers": sorted([customers["east"].pk,
                                                     customers["east_b"].pk])}


def test_the_audit_page_names_a_list_read_in_both_languages(client, users, customers):
    client.force_login(users["manager1"])
    client.get(reverse("customers:list"), {"q": "h"})
    admin = client.__class__()
    admin.force_login(users["admin"])
    body = admin.get(reverse("audit:events"), {"action": "customer.list"}).content.decode()
    assert "Listed customers" in body and "the customer list" in body and "filter" in body
    admin.cookies["django_language"] = "zh-hans"
    body = admin.get(reverse("audit:events"), {"action": "customer.list"}).content.decode()
    assert "查看客户列表" in body and "客户列表" in body and "筛选条件" in body


def test_an_export_names_its_filter_and_its_customers(client, users, customers, children):
    client.force_login(users["manager1"])
    response = client.get(reverse("dataio:export_download"),
                          {"what": "transactions", "format": "csv", "q": "上海",
                           "date_from": "2024-01-01"})
    assert response.status_code == 200
    event = AuditEvent.objects.latest("pk")
    assert event.action == "export.transactions"
    assert event.detail["filter"] == {"q": "上海", "date_from": "2024-01-01"}
    assert event.detail["customers"] == [customers["east"].pk] and event.detail["rows"] == 1


def test_the_export_command_names_its_customers(tmp_path, users, customers):
    from django.core.management import call_command

    call_command("export", "customers", "--as", "manager1", "--out", str(tmp_path / "c.csv"))
    event = AuditEvent.objects.latest("pk")
    assert event.action == "export.customers" and event.via == "cli"
    assert event.detail["filter"] == {}
    assert event.detail["customers"] == sorted([customers["east"].pk, customers["east_b"].pk])


def test_a_large_export_names_its_customers_by_count_range_and_digest(monkeypatch, tmp_path,
                                                                      users, customers):
    import hashlib

    from kehu.audit import services
    from kehu.dataio.exports.services import export

    monkeypatch.setattr(services, "LISTED_IDS", 1)
    export(users["admin"], "customers", "csv", tmp_path / "all.csv", via="cli")
    event = AuditEvent.objects.latest("pk")
    ids = sorted(c.pk for c in customers.values())
    assert "customers" not in event.detail
    assert event.detail["count"] == 3
    assert (event.detail["first"], event.detail["last"]) == (ids[0], ids[-1])
    assert event.detail["sha256"] == hashlib.sha256(
        ",".join(map(str, ids)).encode()).hexdigest()
