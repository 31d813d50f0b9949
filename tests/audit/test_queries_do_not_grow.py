"""No page and no API read makes a query per row it shows.

Every GET of the web and of the API that the audit walk knows (tests/audit/
test_reads_are_audited.py: the same URL resolver and OpenAPI schema, the same parameters)
is counted once after each fixture customer gained contacts, transactions with line items,
activities and tasks and the base gained customers, all scored, and again after as many
more. A page whose count went up makes a query per customer, contact or line: an N+1
that is harmless on a test database and slow at a million customers. A page or operation
added later is covered without editing this file."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, reverse

from kehu.core.roles import Role
from tests.audit.test_reads_are_audited import (
    API_PATH_PARAMS,
    WEB_PARAM_VALUES,
    WEB_QUERIES,
    WEB_URL_PARAMS,
    _gets,
    _walk,
    records,  # noqa: F401 — fixtures
    web_records,  # noqa: F401
)

# Django issues the same queries on every database: counted once, on SQLite.
pytestmark = pytest.mark.one_database

# Pages and operations whose query count may follow the data, and why.
MAY_GROW: dict[str, str] = {}
# One more query is a threshold crossed (a list now longer than its page counts its rows),
# not a cost per row: a query per row adds at least four (each round adds four rows of each
# kind to every customer and nine customers).
SLACK = 1


def _grow(users, customers, round_: int) -> None:
    """Many more rows of every kind the pages show, owned by the users the fixtures have."""
    from decimal import Decimal

    from kehu.analytics.refresh import refresh_values
    from kehu.customers.models import Product
    from kehu.customers.services import create_contact, create_customer, create_transaction
    from kehu.marketing.consent.sending import send_marketing_email
    from kehu.marketing.consent.services import set_consent
    from kehu.sales.services import log_activity
    from kehu.tasks.services import add_task

    admin = users["admin"]
    products = [Product.objects.get_or_create(
        code=f"QC-{i}", defaults={"name": f"Product {i}", "unit_price": Decimal("12.50"),
                                  "unit_cost": Decimal("7")})[0] for i in range(4)]
    from kehu.sales.models import Competitor
    from kehu.sales.pipeline.models import Stage
    from kehu.sales.pipeline.services import create_opportunity

    stages = list(Stage.objects.all())
    rivals = [Competitor.objects.get_or_create(name=f"Rival {i}")[0] for i in range(3)]
    owners = [users["sales1"], users["sales1b"], users["sales2"]]
    more = [create_customer(admin, {"name": f"Grown customer {round_}.{i}",
                                             "city": "上海"},
                            owner=owners[i % 3]) for i in range(9)]
    for customer in [*customers.values(), *more]:
        for j in range(4):
            contact = create_contact(admin, customer, {
                "name": f"Contact {round_}.{j} of {customer.pk}",
                "decision_role": "influencer", "email": f"c{round_}{j}@example.com"})
            # Consent of each contact person, and marketing e-mails sent and held back.
            set_consent(admin, customer, contact=contact, channel="email",
                        status="given" if j % 2 else "refused", source="form")
            send_marketing_email(admin, customer, contact=contact, subject=f"News {j}",
                                 body="x", origin="mailing")
            create_transaction(admin, customer, date=dt.date(2023 + round_, 1 + j, 3 + j),
                               lines=[{"product": products[(j + k) % 4], "quantity": "2",
                                       "unit_price": "12.50", "unit_cost": "7"}
                                      for k in range(3)])
            log_activity(admin, customer, kind="visit", subject=f"Visit {j}")
            add_task(admin, customer, title=f"Call back {j}", assignee=customer.owner,
                     due_on=dt.date.today() - dt.timedelta(days=j))  # overdue and due today
            manager = users["manager1" if customer.owner.team_id == users["manager1"].team_id
                            else "manager2"]
            add_task(admin, customer, title=f"Brief {j}", assignee=manager)
            create_opportunity(admin, customer, title=f"Deal {round_}.{j}",
                               stage=stages[j % len(stages)], amount=Decimal("900"),
                               expected_close=dt.date.today() + dt.timedelta(days=j),
                               products=products[:2], competitors=rivals[:j % 3],
                               lost_reason="price" if stages[j % len(stages)].kind == "lost"
                               else "")
            _grow_tickets(admin, customer, f"{round_}.{j}", users)
        _grow_offers(admin, customer, products, round_)
    # Each new customer was referred by a fixture customer, and half of them rewarded.
    from kehu.analytics.models import Referral
    from kehu.marketing.referrals.services import grant_referral_reward, issue_referral_code

    referrers = list(customers.values())
    for i, customer in enumerate(more):
        referral = Referral.objects.create(referrer=referrers[i % 3], referred=customer,
                                           referred_on=dt.date(2023 + round_, 1, 3))
        issue_referral_code(admin, customer)
        if i % 2:
            grant_referral_reward(admin, referral, kind="coupon", value="50")
    from kehu.service.surveys import services as surveys
    from tests.service.surveys_factory import answers_for, make_survey

    survey = make_survey(admin, name=f"Survey {round_}")
    # More than one of each kind of row a round: a query per survey adds more than SLACK.
    make_survey(admin, name=f"Survey {round_} for later")
    for customer in [*customers.values(), *more]:
        for j in range(2):
            sent = surveys.send_survey(admin, survey, customer)
            surveys.submit_answers(sent.invitation, answers_for(survey, csat=1 + j * 3))
        surveys.send_survey(admin, survey, customer)  # waiting for an answer
    _grow_sales(admin, users, [*customers.values(), *more], more, round_)
    _grow_campaigns(users, round_)
    refresh_values(admin)
    # Owners changed twice: the key customers among them are flagged (kehu.service.chain).
    from kehu.customers.services import change_owner

    swap = {users["sales1"].pk: users["sales1b"], users["sales1b"].pk: users["sales1"],
            users["sales2"].pk: users["manager2"]}
    for customer in more:
        first = customer.owner
        change_owner(admin, change_owner(admin, customer, swap[first.pk]), first)
    # Knowledge-base articles with tags, each linked to every ticket (kehu.service.knowledge):
    # the ticket pages list more articles, the article pages more tickets.
    from kehu.service.knowledge.services import create_article, link_ticket
    from kehu.service.tickets.models import Ticket

    tickets = list(Ticket.objects.all())
    for j in range(4):
        article = create_article(admin, {"title": f"打印机卡纸 {round_}.{j}", "problem": "卡纸",
                                         "solution": "清理纸屑"},
                                 tags=[f"打印机 {j}", f"tag {round_}.{j}"])
        for ticket in tickets:
            link_ticket(admin, article, ticket)


def _grow_sales(admin, users, everyone, more, round_: int) -> None:
    """Leads, receivables with payments, key-account plans and loans of customer files."""
    from kehu.loans.services import approve_loan, request_loan
    from kehu.sales.credit.services import create_receivable, record_payment
    from kehu.sales.leads.services import create_lead
    from kehu.sales.plans import services as plans

    for customer in everyone:
        for j in range(2):
            create_lead(admin, {"name": f"Lead {round_}.{j} from {customer.pk}",
                                "source": "referral"}, owner=customer.owner, referrer=customer,
                        judgements={"money": (True, ""), "need": (j == 0, "")})
            receivable = create_receivable(
                admin, customer, issued_on=dt.date(2024, 1 + round_, 1 + j), amount="300.00",
                number=f"INV-Q{round_}{j}-{customer.pk}")
            record_payment(admin, receivable, paid_on=dt.date(2024, 2 + round_, 1 + j),
                           amount="100.00")
    for n, customer in enumerate(more):
        plan = plans.create_plan(admin, customer, {"objectives": f"Grow {customer.pk}"})
        plans.add_competitor(admin, plan, new_name=f"Rival {round_}.{n}")
        plans.add_step(admin, plan, title=f"Meet {customer.pk}", owner=customer.owner,
                       due_on=dt.date(2030, 1, 1))
        # Another team's salesperson borrows the file; half of the requests are answered.
        borrower = users["sales2" if customer.owner.team_id == users["sales1"].team_id
                         else "sales1"]
        loan = request_loan(borrower, customer.name, "a joint offer")
        if n % 2:
            approve_loan(admin, loan)


def _grow_campaigns(users, round_: int) -> None:
    """A target list of each kind and a launched campaign and a draft on it, for each
    owner of the fixture campaigns: every list holds the grown customers of its scope."""
    from kehu.marketing.campaigns import services

    for owner in ("marketing1", "manager1", "manager2", "admin"):
        user = users[owner]
        for kind in ("frozen", "dynamic"):
            target_list = services.create_target_list(
                user, {"name": f"List {round_} {kind} of {owner}"},
                criteria={"city": "上海"}, kind=kind)
            for launched in (True, False):
                campaign = services.create_campaign(
                    user, {"name": f"Campaign {round_} {kind} {launched} of {owner}",
                           "kind": "sales_promotion", "starts_on": dt.date(2026, 1, 1),
                           "channels": ["post"], "holdout_percent": 10,
                           "goal": "More orders"}, target_list=target_list)
                if launched:
                    services.launch_campaign(user, campaign)


def _grow_tickets(admin, customer, label: str, users) -> None:
    """A ticket worked by somebody, with its conversation and history."""
    from kehu.service.tickets.models import TicketCategory
    from kehu.service.tickets.services import add_entry, assign_ticket, open_ticket

    ticket = open_ticket(admin, customer, subject=f"Ticket {label}", kind="repair",
                         category=TicketCategory.objects.first(), description="Broken")
    # Service staff work the tickets of their team's customers: their queue lists them.
    worker = users["service1"] if customer.team_id == users["service1"].team_id and \
        label.endswith(("1", "3")) else customer.owner
    assign_ticket(admin, ticket, worker)
    add_entry(admin, ticket, kind="reply", body="On our way", minutes=10, waiting=True)


def _grow_offers(admin, customer, products, round_: int) -> None:
    """Offer lists with items, a coupon redeemed on a transaction, and their sends."""
    from django.utils import timezone

    from kehu.marketing.offers.models import Coupon, OfferItem, OfferList, OfferSend

    for j in range(2):
        day = dt.date(2024, 1 + round_, 1 + j)
        offer_list = OfferList.objects.create(customer=customer, as_of=day, spend=100,
                                              valid_until=day + dt.timedelta(days=14),
                                              built_by=admin)
        OfferItem.objects.bulk_create([
            OfferItem(offer_list=offer_list, position=k + 1, kind="suggested",
                      product=products[k], price=products[k].unit_price,
                      because=products[(k + 1) % 4], share=0.5, co_buyers=3)
            for k in range(3)])
        txn = customer.transactions.filter(coupon__isnull=True).first()
        Coupon.objects.create(code=f"KH-Q{round_}{j}-{customer.pk:04d}", customer=customer,
                              offer_list=offer_list, tier_name="Gold", discount_percent=15,
                              valid_from=day, valid_until=day + dt.timedelta(days=28),
                              redeemed_transaction=txn, redeemed_on=txn.date,
                              discount_amount=1, redeemed_by=admin)
        OfferSend.objects.create(offer_list=offer_list, channel="print", at=timezone.now(),
                                 by=admin)


def _count(call, *args) -> tuple[int, int]:
    # The log the count reads holds at most 9,000 queries and is emptied by a request made
    # outside a count: counted back to back, requests must empty it themselves.
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        response = call(*args)
    if response.streaming:
        b"".join(response)
    return response.status_code, len(queries)


# One user of each role (tests/conftest.py): each opens the pages its rules open
# (kehu.core.policy) over the customers its scope reaches (kehu.core.permissions).
ROLES = {Role.ADMIN: "admin", Role.MANAGER: "manager1", Role.SALES: "sales1",
         Role.SERVICE: "service1", Role.MARKETING: "marketing1", Role.ANALYST: "analyst1"}
# URL parameters of the pages that show no customer's data, beyond those the audit walk
# knows (WEB_URL_PARAMS): the record each names.
PAGE_PARAMS = {"article_pk": "article", "survey_pk": "survey", "tier_pk": "coupon_tier",
               "batch_id": "batch", "survey_token": "survey_token",
               "holiday_pk": "holiday", "category_pk": "category", "stage_pk": "stage",
               "competitor_pk": "competitor"}
# Pages no role opens with status 200 in the walk, and why. Every other page the URL
# resolver knows is counted by at least one role, except a form's POST target, which
# answers a GET with 405 whoever asks.
NOT_OPENED = {
    "set_language": "switches the language: answers with a redirect",
    "login": "the sign-in page: redirects whoever is signed in",
    "sales:plan_create": "starts a key-account plan: redirects to the plan the customer has",
    "api_token_revoke": "revokes a personal API token; answers POST only",
    "core:job": "a background job's progress: needs a job in flight; one row",
    "dataio:import_columns": "needs an uploaded file in the middle of an import",
    "dataio:import_preview": "needs an uploaded file in the middle of an import",
    "dataio:import_run": "needs an uploaded file in the middle of an import",
    "dataio:import_status": "needs an import in progress",
    "dataio:quality_run": "starts a scan; answers POST only",
    "analytics:list_tasks": "gives a list's owners tasks; answers POST only",
    "analytics:activity_cost": "an activity kind's unit cost; answers POST only",
    "analytics:segment_action": "a segment's treatment; answers POST only",
    "marketing:unsubscribe": "the public unsubscribe page: needs an e-mail's token; one row",
}
# API reads no role counts, and why; every other GET of the schema is counted with
# status 200 by at least one role.
API_NOT_OPENED = {
    "/api/v1/value/jobs/{job_id}": "the progress of a refresh job: needs a job in flight",
}


def _page_records(walked, customers, users) -> dict:
    """The records the pages that show no customer's data are about."""
    from kehu.dataio.models import ImportBatch
    from kehu.marketing.offers.models import CouponTier
    from kehu.sales.models import Competitor
    from kehu.sales.pipeline.models import Stage
    from kehu.service.knowledge.services import create_article
    from kehu.service.sla.models import Holiday
    from kehu.service.surveys import services as surveys
    from kehu.service.tickets.models import TicketCategory
    from tests.service.surveys_factory import make_survey

    admin = users["admin"]
    survey = make_survey(admin, name="Walked survey")
    sent = surveys.send_survey(admin, survey, customers["east"])
    article = create_article(admin, {"title": "打印机卡纸", "problem": "卡纸",
                                     "solution": "清理纸屑"}, tags=["打印机"])
    return {**walked, "article": article, "survey": survey,
            "survey_token": sent.url.rstrip("/").rsplit("/", 1)[-1],
            "coupon_tier": CouponTier.objects.first(),
            "batch": ImportBatch.objects.create(kind="customers", file_name="c.csv",
                                                created_by=admin),
            "holiday": Holiday.objects.first(), "category": TicketCategory.objects.first(),
            "stage": Stage.objects.first(), "competitor": Competitor.objects.first()}


def _value(record):
    return record if isinstance(record, str) else getattr(record, "pk", None) or 1


def _pages(known) -> list[tuple[str, str, dict]]:
    """Every named page of the URL resolver (the admin site and the API apart), with the
    audit walk's records, parameters and queries."""
    out = []
    for name, params in _walk(get_resolver().url_patterns):
        if name in NOT_OPENED:
            continue
        options = [{}]
        for param in params:
            if param in WEB_URL_PARAMS:
                values = [_value(known[WEB_URL_PARAMS[param]])]
            elif param in WEB_PARAM_VALUES.get(name, {}):
                values = WEB_PARAM_VALUES[name][param]
            elif param in PAGE_PARAMS:
                values = [_value(known[PAGE_PARAMS[param]])]
            else:
                pytest.fail(f"{name}: URL parameter {param} is unknown here; add it to "
                            f"PAGE_PARAMS, or the page to NOT_OPENED with the reason")
            options = [{**o, param: v} for o in options for v in values]
        for kwargs in options:
            for query in WEB_QUERIES.get(name, [{}]):
                out.append((name, reverse(name, kwargs=kwargs), query))
    return out


def _walk_counts(sign_in, requests, before: dict | None = None) -> dict:
    """(role, request) → (status, queries), each request made as each role. The first
    request of a page (of a tab) fills the process's caches (templates, translations,
    content types): the first that answers is made again. Measured after the data grew
    (`before` given), only what answered before is asked again, and a count that went up
    is taken again for the same reason. A form's POST target answers a GET with 405
    whoever asks: the first role's answer stands for all."""
    out, warm, post_only = {}, set(), set()
    for role, username in ROLES.items():
        call = sign_in(username)
        for request in requests:
            key = (role, *request[:2], str(request[2]))
            if key[1:] in post_only or (before is not None and before[key][0] != 200):
                out[key] = (405, 0) if key[1:] in post_only else before[key]
                continue
            status, n = _count(call, request)
            first = before is None and status == 200 and key[1:] not in warm
            grew = before is not None and n > before[key][1] + SLACK
            if first or grew:
                warm.add(key[1:])
                status, n = _count(call, request)
            if status == 405:
                post_only.add(key[1:])
            out[key] = (status, n)
    return out


def _grown(before: dict, after: dict) -> dict:
    # A page that answers reads at least its session: a count of none is a count that
    # failed (the query log full), which would hide any growth.
    assert all(n for status, n in (*before.values(), *after.values()) if status == 200)
    return {key: (before[key][1], n) for key, (status, n) in after.items()
            if status == 200 and before[key][0] == 200
            and n > before[key][1] + SLACK and key[1] not in MAY_GROW}


def _never_opened(counts: dict, requests) -> list:
    """The requests no role opened with status 200, but for a form's POST target."""
    statuses: dict = {}
    for (_role, name, url, query), (status, _n) in counts.items():
        statuses.setdefault((name, url, query), set()).add(status)
    return [request for request, seen in statuses.items()
            if 200 not in seen and seen != {405}]


def test_the_walk_counts_every_role_and_its_exemptions_exist():
    names = {name for name, _params in _walk(get_resolver().url_patterns)}
    assert set(ROLES) == set(Role.values)
    assert set(NOT_OPENED) <= names


@pytest.mark.django_db
def test_no_page_makes_a_query_per_row(client, users, web_records, customers):  # noqa: F811
    requests = _pages(_page_records(web_records, customers, users))

    def sign_in(username):
        client.force_login(users[username])
        return lambda request: client.get(request[1], request[2])

    _grow(users, customers, 1)  # every kind of row exists: what remains is per-row cost
    before = _walk_counts(sign_in, requests)
    _grow(users, customers, 2)
    after = _walk_counts(sign_in, requests, before)
    assert not _never_opened(before, requests), "opened by no role: add the data it needs"
    assert not _grown(before, after)
    counted = {key[1:] for key, (status, _n) in before.items() if status == 200}
    assert len(counted) >= 130 and len({key[0] for key in before}) == len(ROLES)


def _api_reads(schema, known) -> list[tuple[str, str, dict]]:
    params_of = {**API_PATH_PARAMS, "survey_id": "survey", "article_id": "article"}
    out = []
    for path, params in _gets(schema):
        if path in API_NOT_OPENED:
            continue
        url = path
        for param in params:
            assert param in params_of, f"{path}: add {{{param}}} to API_PATH_PARAMS"
            url = url.replace("{" + param + "}", str(known[params_of[param]].pk))
        takes = {p["name"] for p in schema["paths"][path]["get"].get("parameters", [])}
        out.append((path, url, {"limit": 200} if "limit" in takes else {}))
    return out


@pytest.mark.django_db
def test_no_api_read_makes_a_query_per_row(api, users, web_records, customers,  # noqa: F811
                                           client):
    schema = client.get("/api/v1/openapi.json").json()
    reads = _api_reads(schema, _page_records(web_records, customers, users))

    def sign_in(username):
        caller = api(username)
        return lambda read: caller.get(read[1], **read[2])

    _grow(users, customers, 1)  # every kind of row exists: what remains is per-row cost
    before = _walk_counts(sign_in, reads)
    _grow(users, customers, 2)
    after = _walk_counts(sign_in, reads, before)
    assert not _never_opened(before, reads), "read by no role: add the data it needs"
    assert not _grown(before, after)
    counted = {key[1:] for key, (status, _n) in before.items() if status == 200}
    assert len(counted) == len(reads) >= 45
