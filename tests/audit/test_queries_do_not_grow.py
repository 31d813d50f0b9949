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
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.audit.test_reads_are_audited import (
    API_NOT_CUSTOMER_DATA,
    API_PATH_PARAMS,
    WEB_QUERIES,
    _gets,
    _kwargs,
    _web_urls,
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
    for customer in [*customers.values(), *more]:
        for j in range(2):
            sent = surveys.send_survey(admin, survey, customer)
            surveys.submit_answers(sent.invitation, answers_for(survey, csat=1 + j * 3))
        surveys.send_survey(admin, survey, customer)  # waiting for an answer
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


def _grow_tickets(admin, customer, label: str, users) -> None:
    """A ticket worked by somebody, with its conversation and history."""
    from kehu.service.tickets.models import TicketCategory
    from kehu.service.tickets.services import add_entry, assign_ticket, open_ticket

    ticket = open_ticket(admin, customer, subject=f"Ticket {label}", kind="repair",
                         category=TicketCategory.objects.first(), description="Broken")
    assign_ticket(admin, ticket, customer.owner)
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


def _count(call) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    if response.streaming:
        b"".join(response)
    return response.status_code, len(queries)


ROLES = ("admin", "manager1", "sales1")  # everything, a team, one's own book


@pytest.mark.django_db
def test_no_page_makes_a_query_per_row(client, users, web_records, customers):  # noqa: F811
    requests = []
    for name, params in _web_urls():
        for kwargs in _kwargs(name, params, web_records):
            for query in WEB_QUERIES.get(name, [{}]):
                requests.append((name, reverse(name, kwargs=kwargs), query))

    def counts() -> dict:
        out = {}
        for role in ROLES:
            client.force_login(users[role])
            for name, url, query in requests:
                client.get(url, query)  # the first request of a kind fills caches
                status, n = _count(lambda url=url, query=query: client.get(url, query))
                if status == 200:
                    out[(role, name, url, str(query))] = n
        return out

    _grow(users, customers, 1)  # every kind of row exists: what remains is per-row cost
    before = counts()
    _grow(users, customers, 2)
    after = counts()
    grew = {key: (before[key], n) for key, n in after.items()
            if key in before and n > before[key] + SLACK and key[1] not in MAY_GROW}
    assert len(before) >= 90
    assert not grew, grew


@pytest.mark.django_db
def test_no_api_read_makes_a_query_per_row(api, users, records, customers, client):  # noqa: F811
    schema = client.get("/api/v1/openapi.json").json()
    caller = api("admin")
    urls = []
    for path, params in _gets(schema):
        if "{" in path and path in API_NOT_CUSTOMER_DATA:
            continue  # a job's progress: no rows
        url = path
        for param in params:
            assert param in API_PATH_PARAMS, f"{path}: add {{{param}}} to API_PATH_PARAMS"
            url = url.replace("{" + param + "}",
                              str(records["east"][API_PATH_PARAMS[param]].pk))
        takes = {p["name"] for p in schema["paths"][path]["get"].get("parameters", [])}
        urls.append((url, {"limit": 200} if "limit" in takes else {}))

    def counts() -> dict:
        out = {}
        for url, query in urls:
            caller.get(url, **query)  # the first request of a kind fills caches
            status, n = _count(lambda url=url, query=query: caller.get(url, **query))
            if status == 200:
                out[url] = n
        return out

    _grow(users, customers, 1)  # every kind of row exists: what remains is per-row cost
    before = counts()
    _grow(users, customers, 2)
    after = counts()
    grew = {url: (before[url], n) for url, n in after.items()
            if url in before and n > before[url] + SLACK and url not in MAY_GROW}
    assert len(before) >= 12
    assert not grew, grew
