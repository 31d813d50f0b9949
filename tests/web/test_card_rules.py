"""Who may create customers, facts a card refuses, and long tabs that say they are cut."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.core.errors import NotPermitted
from kehu.customers.models import Customer, Transaction
from kehu.customers.services import create_customer
from tests.api.conftest import ApiClient
from tests.web.test_pages import _edit_data, card_url, client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["service1", "marketing1", "analyst1"])
def test_read_only_roles_cannot_create_customers(users, customers, role):
    client = client_for(users[role])
    assert "New customer" not in client.get(reverse("customers:list")).content.decode()
    before = Customer.objects.count()
    page = client.get(reverse("customers:create"))
    assert page.status_code == 403
    assert "Not allowed" in page.content.decode()
    response = client.post(reverse("customers:create"),
                           {"name": "Sneaky Ltd", "kind": "organisation", "nature": "ordinary",
                            "service_group": "sme"})
    assert response.status_code == 403
    with pytest.raises(NotPermitted):
        create_customer(users[role], {"name": "Sneaky Ltd"})
    from kehu.accounts.tokens import create_token

    api = ApiClient(create_token(users[role], "t")[1])
    assert api.post("/customers", {"name": "Sneaky Ltd"}).status_code == 403
    assert Customer.objects.count() == before


@pytest.mark.parametrize("role", ["admin", "manager1", "sales1"])
def test_sales_managers_and_admins_create_customers(users, role):
    client = client_for(users[role])
    assert "New customer" in client.get(reverse("customers:list")).content.decode()
    response = client.post(reverse("customers:create"),
                           {"name": f"New Co {role}", "kind": "organisation",
                            "nature": "ordinary", "service_group": "sme",
                            "owner": users[role].pk})
    assert response.status_code == 302
    assert Customer.objects.filter(name=f"New Co {role}").exists()


def test_the_forbidden_page_speaks_chinese(users):
    client = client_for(users["analyst1"])
    client.cookies["django_language"] = "zh-hans"
    body = client.get(reverse("customers:create")).content.decode()
    assert "无权访问" in body and "New customer" not in body


def test_impossible_facts_are_refused_field_by_field(users, customers):
    customer = customers["east"]
    next_year = timezone.localdate().year + 1
    response = client_for(users["admin"]).post(
        reverse("customers:edit", args=[customer.pk]),
        _edit_data(customer, founded_on=f"{next_year}-01-01", registered_capital="-5",
                   credit_limit="-100", payment_terms_days="400",
                   legal_rep_birth_year="3000"))
    assert response.status_code == 400
    body = response.content.decode()
    assert body.count('class="field has-error') == 5
    assert "Must not be later than today." in body
    assert body.count("Must not be negative.") >= 2
    assert "At most 365 days." in body
    assert f"Enter a year between 1900 and {next_year - 1}." in body
    # The errors are listed at the top, each linking to its field.
    assert "Nothing was saved: 5 fields need correcting." in body
    assert 'href="#id_credit_limit"' in body
    customer.refresh_from_db()
    assert customer.version == 1 and customer.credit_limit is None


def test_plausible_facts_are_kept(users, customers):
    customer = customers["east"]
    response = client_for(users["admin"]).post(
        reverse("customers:edit", args=[customer.pk]),
        _edit_data(customer, founded_on="1998-03-01", registered_capital="0",
                   credit_limit="50000", legal_rep_birth_year="1968"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("50000") and customer.legal_rep_birth_year == 1968


def test_a_long_transactions_tab_says_it_shows_the_latest_and_offers_the_rest(users,
                                                                             customers):
    customer = customers["east"]
    start = dt.date(2020, 1, 1)
    Transaction.objects.bulk_create(
        Transaction(customer=customer, date=start + dt.timedelta(days=i), amount=Decimal("10"),
                    number=f"T{i:04d}") for i in range(205))
    client = client_for(users["sales1"])
    body = client.get(card_url(customer, "transactions")).content.decode()
    assert "205 transactions" in body
    assert "Showing the latest 200 of 205." in body
    assert "T0204" in body and "T0004" not in body
    everything = client.get(card_url(customer, "transactions") + "&show=all").content.decode()
    assert "T0004" in everything and "Showing the latest" not in everything


def test_a_short_tab_has_no_note(users, customers):
    body = client_for(users["sales1"]).get(
        card_url(customers["east"], "transactions")).content.decode()
    assert "Showing the latest" not in body


def test_chinese_pages_group_amounts_by_thousands(users, customers):
    from kehu.customers.services import create_transaction

    customer = customers["east"]
    create_transaction(users["admin"], customer, date=dt.date(2025, 3, 1),
                       amount=Decimal("1234567.89"), cost=Decimal("1000"))
    client = client_for(users["sales1"])
    client.cookies["django_language"] = "zh-hans"
    body = client.get(card_url(customer, "transactions")).content.decode()
    assert "1,234,567.89" in body and "2025-03-01" in body


def test_an_order_number_the_customer_already_has_is_refused(users, customers):
    from django.core.exceptions import ValidationError

    from kehu.customers.services import create_transaction

    customer = customers["east"]
    create_transaction(users["sales1"], customer, date=dt.date(2025, 1, 1), amount="10",
                       number="SO-1")
    with pytest.raises(ValidationError) as refused:
        create_transaction(users["sales1"], customer, date=dt.date(2025, 1, 2), amount="10",
                           number="SO-1")
    assert "number" in refused.value.message_dict
    create_transaction(users["sales1"], customer, date=dt.date(2025, 1, 3), amount="4",
                       number="SO-1", kind="return")
    assert Transaction.objects.filter(customer=customer).count() == 2


def test_a_name_of_blanks_is_no_name(users, customers):
    from kehu.accounts.tokens import create_token

    api = ApiClient(create_token(users["sales1"], "t")[1])
    customer = customers["east"]
    response = api.patch(f"/customers/{customer.pk}", {"name": "   ", "version": 1})
    assert response.status_code in (400, 422)
    assert "name" in response.content.decode()
    customer.refresh_from_db()
    assert customer.name == "上海华东贸易有限公司"
    created = api.post("/customers", {"name": "  Spaced Ltd  ", "external_id": "   "})
    assert created.status_code == 201, created.content
    made = Customer.objects.get(pk=created.json()["id"])
    assert made.name == "Spaced Ltd" and made.external_id is None


def test_an_oversized_api_body_gets_a_json_answer(users, customers):
    from kehu.accounts.tokens import create_token

    api = ApiClient(create_token(users["sales1"], "t")[1])
    response = api.patch(f"/customers/{customers['east'].pk}",
                         {"notes": "x" * (3 * 2**20), "version": 1})
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]


def test_empty_choices_say_not_set(users, customers):
    body = client_for(users["manager1"]).get(
        reverse("customers:edit", args=[customers["east"].pk])).content.decode()
    assert "---------" not in body and "(not set)" in body


def test_a_method_an_endpoint_lacks_gets_a_json_405(users, customers):
    from kehu.accounts.tokens import create_token

    api = ApiClient(create_token(users["sales1"], "t")[1])
    response = api.request("PUT", f"/customers/{customers['east'].pk}", {"city": "x"})
    assert response.status_code == 405
    body = response.json()
    assert "PUT is not allowed" in body["detail"] and "PATCH" in body["detail"]
    assert "PATCH" in response["Allow"]
