"""The customer list and the customer card cost a fixed number of queries: a full page of
customers costs what a page of three costs, and each tab of the card of a customer with
forty of everything costs what the card of a customer with one of each costs. A query
per row (an N+1) would add forty to fifty queries and break the bound.

tests/audit/test_queries_do_not_grow.py walks every page as every role; these two pages,
the most used, get a bound of their own that names them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from kehu.customers import card

# Counted once, on SQLite: Django issues the same queries on both databases, but for a
# search, which PostgreSQL reads with a few more (kehu.customers.search_index).
pytestmark = [pytest.mark.django_db, pytest.mark.one_database]

# The most queries the list and a tab of the card may make at all, whatever the data.
LIST_MAX = 25
CARD_MAX = 65
# A threshold crossed (a second page, a count that becomes estimated) is one query more;
# a query per row is forty.
SLACK = 2
ROWS = 40


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _fill(user, customer, rows: int, label: str) -> None:
    """`rows` of each kind the card lists: contacts with consent, orders with lines,
    activities, tasks, deals with products and competitors, tickets with replies,
    receivables with payments."""
    from kehu.customers.models import Product
    from kehu.customers.services import create_contact, create_transaction
    from kehu.marketing.consent.services import set_consent
    from kehu.sales.credit.services import create_receivable, record_payment
    from kehu.sales.models import Competitor
    from kehu.sales.pipeline.models import Stage
    from kehu.sales.pipeline.services import create_opportunity
    from kehu.sales.services import log_activity
    from kehu.service.tickets.services import add_entry, open_ticket
    from kehu.tasks.services import add_task

    products = [Product.objects.get_or_create(
        code=f"QN-{i}", defaults={"name": f"Product {i}", "unit_price": Decimal("10"),
                                  "unit_cost": Decimal("6")})[0] for i in range(2)]
    rival = Competitor.objects.get_or_create(name="Rival")[0]
    stage = Stage.objects.filter(kind="open").first()
    for j in range(rows):
        contact = create_contact(user, customer, {"name": f"Contact {label}{j}",
                                                  "email": f"c{label}{j}@example.com"})
        set_consent(user, customer, contact=contact, channel="email", status="given",
                    source="form")
        txn = create_transaction(user, customer, date=dt.date(2024, 1 + j % 12, 1 + j % 28),
                                 lines=[{"product": p, "quantity": "1", "unit_price": "10",
                                         "unit_cost": "6"} for p in products])
        log_activity(user, customer, kind="call", subject=f"Call {label}{j}", contact=contact)
        add_task(user, customer, title=f"Task {label}{j}", assignee=customer.owner,
                 due_on=dt.date.today() + dt.timedelta(days=j))
        create_opportunity(user, customer, title=f"Deal {label}{j}", stage=stage,
                           amount=Decimal("500"), expected_close=dt.date(2030, 1, 1),
                           products=products, competitors=[rival])
        ticket = open_ticket(user, customer, subject=f"Ticket {label}{j}", contact=contact)
        add_entry(user, ticket, kind="reply", body="On our way")
        receivable = create_receivable(user, customer, issued_on=txn.date, amount="20.00",
                                       number=f"INV-{label}{j}", transaction_id=txn.pk)
        record_payment(user, receivable, paid_on=txn.date, amount="5.00")


@pytest.fixture
def crowded(users, customers):
    """East's customer with forty of everything, Hangzhou's with one of each, all scored."""
    from kehu.analytics.refresh import refresh_values

    admin = users["admin"]
    _fill(admin, customers["east"], ROWS, "e")
    _fill(admin, customers["east_b"], 1, "b")
    refresh_values(admin)
    return customers["east"], customers["east_b"]


@pytest.mark.parametrize("role", ["admin", "manager1", "sales1"])
def test_each_card_tab_costs_what_it_costs_with_one_row(role, users, crowded,
                                                       django_assert_max_num_queries):
    full, sparse = crowded
    if role == "sales1":  # their own customer: Hangzhou's belongs to sales1b
        from kehu.customers.services import change_owner

        sparse = change_owner(users["admin"], sparse, users["sales1"])
    client = _client(users[role])
    for tab in card.tabs(users[role]):
        url = reverse("customers:card", args=[sparse.pk])
        client.get(url, {"tab": tab.key})  # the first request of a tab fills caches
        with django_assert_max_num_queries(CARD_MAX) as one:
            assert client.get(url, {"tab": tab.key}).status_code == 200
        url = reverse("customers:card", args=[full.pk])
        with django_assert_max_num_queries(len(one) + SLACK):
            response = client.get(url, {"tab": tab.key})
        assert response.status_code == 200
        if tab.key == "contacts":
            assert response.content.decode().count("Contact e") >= ROWS
        if tab.key == "activities":
            assert response.content.decode().count("Call e") >= 20


@pytest.mark.parametrize("role", ["admin", "manager1", "sales1"])
def test_a_page_of_fifty_customers_costs_what_a_page_of_three_costs(
        role, users, customers, django_assert_max_num_queries):
    from kehu.analytics.refresh import refresh_values
    from kehu.customers.services import create_contact, create_customer, create_transaction

    admin = users["admin"]
    owners = [users["sales1"], users["sales1b"]]

    def add(numbers: range) -> None:
        for i in numbers:
            customer = create_customer(admin, {"name": f"Customer {i:02d}", "city": "上海",
                                               "industry": "Textiles"}, owner=owners[i % 2])
            create_contact(admin, customer, {"name": f"Person {i}"})
            create_transaction(admin, customer, date=dt.date(2024, 3, 1 + i % 28),
                               amount="100.00", cost="60.00")
        refresh_values(admin)

    add(range(3))  # a page of three, also for the search (a page of none reads less)
    client = _client(users[role])
    url = reverse("customers:list")
    queries = ({}, {"sort": "clv", "dir": "desc"}, {"q": "Customer"})
    few = {}
    for query in queries:
        client.get(url, query)  # the first request fills caches
        with django_assert_max_num_queries(LIST_MAX) as counted:
            client.get(url, query)
        few[str(query)] = len(counted)
    add(range(3, 60))
    for query in queries:
        with django_assert_max_num_queries(few[str(query)] + SLACK):
            response = client.get(url, query)
        assert response.status_code == 200
        shown = response.content.decode().count("Customer ")
        assert shown >= (30 if role == "sales1" else 50), (query, shown)
