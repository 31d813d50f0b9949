"""The web UI through Django's test client: what a signed-in user sees and can do."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from kehu.audit.models import AuditEvent
from kehu.customers.models import Customer
from kehu.customers.services import create_contact, update_customer

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def card_url(customer, tab: str = "") -> str:
    url = reverse("customers:card", args=[customer.pk])
    return f"{url}?tab={tab}" if tab else url


def test_list_requires_sign_in(client):
    response = client.get(reverse("customers:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_renders_with_csrf(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"csrfmiddlewaretoken" in response.content


def test_it_signs_in_and_out(client, users):
    from tests.conftest import PASSWORD

    response = client.post(reverse("login"), {"username": "sales1", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("customers:list")).status_code == 200
    assert client.get(reverse("logout")).status_code == 405  # sign-out is POST only
    client.post(reverse("logout"))
    assert client.get(reverse("customers:list")).status_code == 302


def test_it_locks_out_after_five_failures(client, users):
    for _ in range(5):
        client.post(reverse("login"), {"username": "sales1", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "sales1", "password": "wrong"})
    assert response.status_code == 429
    assert b"Sign-in locked" in response.content
    assert b"15 minutes" in response.content


def test_wrong_password_says_so(client, users):
    response = client.post(reverse("login"), {"username": "sales1", "password": "nope"})
    assert response.status_code == 200
    assert b"user name or password is wrong" in response.content


def test_list_shows_only_customers_in_scope(users, customers):
    body = client_for(users["sales1"]).get(reverse("customers:list")).content.decode()
    assert "上海华东贸易有限公司" in body
    assert "北京华北机械厂" not in body
    assert "Hangzhou Silk" not in body  # team East does not share customers
    body = client_for(users["manager1"]).get(reverse("customers:list")).content.decode()
    assert "Hangzhou Silk" in body and "北京华北机械厂" not in body


def test_a_search_longer_than_the_limit_says_so_instead_of_listing_everyone(users, customers):
    client = client_for(users["admin"])
    response = client.get(reverse("customers:list"), {"q": "上海" * 51})
    assert response.status_code == 400
    body = response.content.decode()
    assert "The search is too long: at most 100 characters (it has 102)." in body
    assert 'aria-invalid="true"' in body
    for customer in customers.values():
        assert customer.name not in body
    assert "export/download" not in body  # no export of "everyone"
    # As the user types (htmx swaps the table in), the table says so too.
    partial = client.get(reverse("customers:list"), {"q": "x" * 101},
                         headers={"HX-Request": "true", "HX-Target": "customer-table"})
    assert partial.status_code == 200
    assert "at most 100 characters" in partial.content.decode()
    assert "上海华东贸易有限公司" not in partial.content.decode()
    # At the limit it searches as usual.
    assert client.get(reverse("customers:list"), {"q": "x" * 100}).status_code == 200


def test_a_search_longer_than_the_limit_in_chinese(users, customers):
    client = client_for(users["admin"])
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    body = client.get(reverse("customers:list"), {"q": "上" * 101}).content.decode()
    assert "搜索内容太长" in body


def test_an_export_with_a_search_too_long_exports_nothing(users, customers):
    client = client_for(users["admin"])
    response = client.get(reverse("dataio:export_download"),
                          {"what": "customers", "format": "csv", "q": "x" * 101})
    assert response.status_code == 302
    assert "at most 100 characters" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("query", ["shanghai", "shhd", "华东", "21-5555", "info@huadong"])
def test_search_finds_by_name_pinyin_initials_phone_email(users, customers, query):
    body = client_for(users["admin"]).get(reverse("customers:list"), {"q": query}).content
    assert "上海华东贸易有限公司".encode() in body
    assert "北京华北机械厂".encode() not in body


def test_htmx_search_returns_only_the_table(users, customers):
    response = client_for(users["admin"]).get(
        reverse("customers:list"), {"q": "beijing"},
        HTTP_HX_REQUEST="true", HTTP_HX_TARGET="customer-table")
    body = response.content.decode()
    assert "北京华北机械厂" in body
    assert "<html" not in body and "<table" in body


def test_list_filters_and_sorts(users, customers):
    client = client_for(users["admin"])
    body = client.get(reverse("customers:list"), {"team": users["sales2"].team_id}).content
    assert "北京华北机械厂".encode() in body and b"Hangzhou" not in body
    body = client.get(reverse("customers:list"), {"sort": "city", "dir": "desc"}).content
    cities = [c for c in re.findall(r"<td>(北京|上海|杭州)</td>", body.decode())]
    assert cities == sorted(cities, reverse=True)


@pytest.mark.parametrize("params", [
    {"sort": "nonsense"}, {"dir": "sideways"}, {"cursor": "!!!not-base64"},
    {"cursor": "WyJub3QtYS1kYXRlIiwgMV0", "sort": "created"},  # ["not-a-date", 1]
    {"state": "bogus", "owner": "x", "team": "99999999999999999999"},
])
def test_list_survives_bad_query_strings(users, customers, params):
    response = client_for(users["admin"]).get(reverse("customers:list"), params)
    assert response.status_code == 200
    assert "上海华东贸易有限公司".encode() in response.content


def test_keyset_pagination_walks_all_pages(users, teams):
    from kehu.customers.services import create_customer

    for i in range(55):
        create_customer(users["admin"], {"name": f"Firm {i:03d}"}, owner=users["sales2"])
    client = client_for(users["admin"])
    first = client.get(reverse("customers:list")).content.decode()
    assert "55 customers" in first and "Firm 049" in first and "Firm 050" not in first
    next_url = re.search(r'href="(\?[^"]*cursor=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(reverse("customers:list") + next_url).content.decode()
    assert "Firm 050" in second and "Firm 054" in second and "Firm 049" not in second
    assert "First page" in second


def test_count_is_exact_beyond_a_thousand(users, teams):
    """Lists and the API count every matching customer: 1,203, not "1,000+"."""
    Customer.objects.bulk_create(
        Customer(name=f"Firm {i:04d}", owner=users["sales2"], team=users["sales2"].team)
        for i in range(1203))
    body = client_for(users["admin"]).get(reverse("customers:list")).content.decode()
    assert "1,203 customers" in body and "+ customers" not in body


def test_card_opens_and_is_audited(users, customers):
    customer = customers["east"]
    response = client_for(users["sales1"]).get(card_url(customer))
    assert response.status_code == 200
    body = response.content.decode()
    assert "上海华东贸易有限公司" in body and "Base data" in body and "Transaction status" in body
    assert AuditEvent.objects.filter(action="customer.view", customer_id=customer.pk,
                                     username="sales1").exists()


@pytest.mark.parametrize("tab", ["base", "characteristics", "business", "transaction",
                                 "contacts", "transactions", "activities", "history", "zzz"])
def test_every_tab_renders(users, customers, tab):
    response = client_for(users["manager1"]).get(card_url(customers["east"], tab))
    assert response.status_code == 200


@pytest.mark.parametrize("path", [
    "customers/{pk}/", "customers/{pk}/edit/", "customers/{pk}/delete/",
    "customers/{pk}/contacts/new/", "customers/{pk}/transactions/new/",
])
def test_out_of_scope_customer_is_404(users, customers, path):
    client = client_for(users["sales1"])
    assert client.get("/" + path.format(pk=customers["north"].pk)).status_code == 404


@pytest.mark.parametrize("path", ["/customers/0/", "/customers/abc/",
                                  "/customers/99999999999999999999999/",
                                  "/customers/1/contacts/99999999999999999999999/edit/"])
def test_bad_ids_are_404(users, customers, path):
    assert client_for(users["admin"]).get(path).status_code == 404


def test_sensitive_fields_hidden_outside_the_tier(users, customers):
    customer = customers["east"]
    create_contact(users["admin"], customer, {"name": "王伟", "personal_interests": "围棋"})
    sales = client_for(users["sales1"])
    for tab in ("transaction", "base", "contacts"):
        body = sales.get(card_url(customer, tab)).content.decode()
        assert "Credit status" not in body and "credit_rating" not in body
        assert "围棋" not in body and "Personal interests" not in body
    edit = sales.get(reverse("customers:edit", args=[customer.pk])).content.decode()
    assert 'name="credit_rating"' not in edit and 'name="legal_rep_interests"' not in edit
    manager = client_for(users["manager1"])
    assert "Credit status" in manager.get(card_url(customer, "transaction")).content.decode()
    assert "围棋" in manager.get(card_url(customer, "contacts")).content.decode()
    edit = manager.get(reverse("customers:edit", args=[customer.pk])).content.decode()
    assert 'name="credit_rating"' in edit


def test_posting_a_sensitive_field_without_the_tier_changes_nothing(users, customers):
    customer = customers["east"]
    client = client_for(users["sales1"])
    client.post(reverse("customers:edit", args=[customer.pk]),
                {"name": customer.name, "kind": "organisation", "nature": "ordinary",
                 "service_group": "sme", "version": customer.version,
                 "credit_rating": "blocked"})
    customer.refresh_from_db()
    assert customer.credit_rating == "good"


def _edit_data(customer, **changes) -> dict:
    data = {"name": customer.name, "kind": customer.kind, "nature": customer.nature,
            "service_group": customer.service_group, "city": customer.city,
            "phone": customer.phone, "email": customer.email, "version": customer.version}
    data.update(changes)
    return data


def test_edit_saves_and_bumps_version(users, customers):
    customer = customers["east"]
    response = client_for(users["sales1"]).post(
        reverse("customers:edit", args=[customer.pk]), _edit_data(customer, city="苏州"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.city == "苏州" and customer.version == 2


def test_edit_shows_field_errors(users, customers):
    customer = customers["east"]
    response = client_for(users["sales1"]).post(
        reverse("customers:edit", args=[customer.pk]),
        _edit_data(customer, name="", email="not-an-email", founded_on="2020-13-45"))
    assert response.status_code == 400
    body = response.content.decode()
    assert body.count('class="field has-error') >= 3
    customer.refresh_from_db()
    assert customer.version == 1


def test_stale_edit_keeps_input_and_names_who_changed_it(users, customers):
    customer = customers["east"]
    opened = _edit_data(customer)  # the form as sales1 opened it, at version 1
    update_customer(users["manager1"], customer, {"city": "南京"}, expected_version=1)
    response = client_for(users["sales1"]).post(
        reverse("customers:edit", args=[customer.pk]), {**opened, "city": "苏州",
                                                        "phone": "021-1234"})
    assert response.status_code == 409
    body = response.content.decode()
    assert "changed by manager1 since you opened it" in body
    assert 'value="苏州"' in body and 'value="021-1234"' in body  # the input is kept
    assert "Saved now: 南京" in body  # and the other change is shown
    customer.refresh_from_db()
    assert customer.city == "南京"  # nothing was overwritten
    # The form now carries the current version: saving again is a deliberate overwrite.
    assert re.search(r'name="version" value="2"', body)


def test_create_customer(users, teams):
    client = client_for(users["sales1"])
    response = client.post(reverse("customers:create"),
                           {"name": "深圳新客户", "kind": "organisation", "nature": "ordinary",
                            "service_group": "sme"})
    assert response.status_code == 302
    customer = Customer.objects.get(name="深圳新客户")
    assert customer.owner == users["sales1"]
    response = client.post(reverse("customers:create"), {"name": ""})
    assert response.status_code == 400


def test_manager_creates_for_team_member_but_not_for_other_team(users, teams):
    client = client_for(users["manager1"])
    base = {"name": "团队客户", "kind": "organisation", "nature": "ordinary",
            "service_group": "sme"}
    response = client.post(reverse("customers:create"), {**base, "owner": users["sales2"].pk})
    assert response.status_code == 400
    assert not Customer.objects.filter(name="团队客户").exists()
    client.post(reverse("customers:create"), {**base, "owner": users["sales1b"].pk})
    assert Customer.objects.get(name="团队客户").owner == users["sales1b"]


def test_lifecycle_change_with_reason(users, customers):
    customer = customers["east"]
    client_for(users["sales1"]).post(reverse("customers:state", args=[customer.pk]),
                                     {"state": "target", "reason": "MAN: M+A+N"})
    customer.refresh_from_db()
    assert customer.lifecycle_state == "target"
    history = client_for(users["sales1"]).get(card_url(customer, "history")).content.decode()
    assert "MAN: M+A+N" in history and "Target" in history


def test_owner_change_is_for_managers_only(users, customers):
    customer = customers["east"]
    url = reverse("customers:owner", args=[customer.pk])
    assert client_for(users["sales1"]).post(url, {"owner": users["sales1b"].pk}).status_code \
        == 404
    client_for(users["manager1"]).post(url, {"owner": users["sales1b"].pk, "reason": "leave"})
    customer.refresh_from_db()
    assert customer.owner == users["sales1b"]


def test_delete_needs_confirmation_and_rights(users, customers):
    customer = customers["east_b"]
    url = reverse("customers:delete", args=[customer.pk])
    assert client_for(users["sales1b"]).get(url).status_code == 404  # sales may not delete
    manager = client_for(users["manager1"])
    response = manager.get(url)
    assert response.status_code == 200 and b"cannot be undone" in response.content
    assert Customer.objects.filter(pk=customer.pk).exists()
    manager.post(url)
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_contact_add_edit_delete(users, customers):
    customer = customers["east"]
    client = client_for(users["sales1"])
    client.post(reverse("customers:contact_create", args=[customer.pk]),
                {"name": "李娜", "decision_role": "decision_maker", "email": "li@example.com"})
    contact = customer.contacts.get()
    assert contact.decision_role == "decision_maker"
    body = client.get(card_url(customer, "contacts")).content.decode()
    assert "李娜" in body and "Decision maker" in body
    client.post(reverse("customers:contact_edit", args=[customer.pk, contact.pk]),
                {"name": "李娜", "title": "采购经理", "version": contact.version})
    contact.refresh_from_db()
    assert contact.title == "采购经理"
    client.post(reverse("customers:contact_delete", args=[customer.pk, contact.pk]))
    assert not customer.contacts.exists()


def test_transaction_with_lines_and_return(users, customers):
    from kehu.customers.models import Product

    product = Product.objects.create(code="P1", name="Pump", unit_price=100, unit_cost=60)
    customer = customers["east"]
    client = client_for(users["sales1"])
    response = client.post(reverse("customers:transaction_create", args=[customer.pk]), {
        "date": "2026-03-01", "kind": "order", "number": "SO-1",
        "lines-TOTAL_FORMS": "3", "lines-INITIAL_FORMS": "0",
        "lines-0-product": product.pk, "lines-0-quantity": "2"})
    assert response.status_code == 302
    client.post(reverse("customers:transaction_create", args=[customer.pk]), {
        "date": "2026-03-02", "kind": "return", "amount": "50", "cost": "30",
        "lines-TOTAL_FORMS": "0", "lines-INITIAL_FORMS": "0"})
    amounts = sorted(t.amount for t in customer.transactions.all())
    assert [str(a) for a in amounts] == ["-50.00", "200.00"]
    body = client.get(card_url(customer, "transactions")).content.decode()
    assert "150.00" in body and "60.00" in body  # revenue 150, gross profit 60


def test_transaction_without_amount_or_lines_is_refused(users, customers):
    customer = customers["east"]
    response = client_for(users["sales1"]).post(
        reverse("customers:transaction_create", args=[customer.pk]),
        {"date": "2026-03-01", "kind": "order", "lines-TOTAL_FORMS": "0",
         "lines-INITIAL_FORMS": "0"})
    assert response.status_code == 400
    assert b"Enter an amount or at least one line item." in response.content


def test_activity_timeline(users, customers):
    customer = customers["east"]
    client = client_for(users["service1"])  # service may contribute but not change
    response = client.post(reverse("sales:activity_create", args=[customer.pk]),
                           {"kind": "call", "subject": "回访电话", "body": "满意"})
    assert response.status_code == 302
    body = client.get(card_url(customer, "activities")).content.decode()
    assert "回访电话" in body and "service1" in body
    response = client.post(reverse("sales:activity_create", args=[customer.pk]),
                           {"kind": "call", "subject": ""})
    assert response.status_code == 400


def test_history_shows_who_changed_what(users, customers):
    customer = customers["east"]
    update_customer(users["manager1"], customer, {"city": "南京"}, expected_version=1)
    body = client_for(users["sales1"]).get(card_url(customer, "history")).content.decode()
    assert "manager1" in body and "上海" in body and "南京" in body


def test_every_form_has_csrf(users, customers):
    client = client_for(users["admin"])
    customer = customers["east"]
    for url in (reverse("customers:create"), reverse("customers:edit", args=[customer.pk]),
                reverse("customers:delete", args=[customer.pk]),
                reverse("customers:contact_create", args=[customer.pk]),
                reverse("customers:transaction_create", args=[customer.pk]),
                card_url(customer, "activities"), reverse("api_tokens")):
        body = client.get(url).content.decode()
        forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", body, re.S)
        assert forms, url
        for form in forms:
            assert "csrfmiddlewaretoken" in form, url


def test_posts_without_csrf_are_refused(users, customers):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["sales1"])
    response = client.post(reverse("customers:state", args=[customers["east"].pk]),
                           {"state": "target"})
    assert response.status_code == 403
    customers["east"].refresh_from_db()
    assert customers["east"].lifecycle_state == "potential"


def test_audit_page_is_admin_only(users, customers):
    for name in ("manager1", "sales1", "analyst1"):
        assert client_for(users[name]).get(reverse("audit:events")).status_code == 404
    admin = client_for(users["admin"])
    admin.get(card_url(customers["east"]))
    body = admin.get(reverse("audit:events"), {"action": "customer.view"}).content.decode()
    assert "Viewed a customer card" in body and "Created a customer" not in body
    body = admin.get(reverse("audit:events"), {"customer": customers["north"].pk}).content
    assert b"Created a customer" in body and b"Viewed a customer card" not in body


def test_audit_page_says_what_happened_in_the_readers_language(users, customers):
    admin = client_for(users["admin"])
    admin.get(card_url(customers["east"]))
    body = admin.get(reverse("audit:events"), {"action": "customer.view"}).content.decode()
    assert "Viewed a customer card" in body
    admin.cookies["django_language"] = "zh-hans"
    body = admin.get(reverse("audit:events"), {"action": "customer.view"}).content.decode()
    assert "查看客户资料卡" in body and "网页" in body
    assert "部分:" in body  # the detail's key, {"part": ...}


@pytest.mark.parametrize("params", [{"customer": "abc"}, {"date_from": "2026-99-01"},
                                    {"cursor": "garbage"}, {"date_from": "2026-02-01",
                                                            "date_to": "2026-01-01"}])
def test_audit_page_survives_bad_filters(users, params):
    response = client_for(users["admin"]).get(reverse("audit:events"), params)
    assert response.status_code in (200, 400)


def test_token_page_shows_secret_once_and_revokes(users):
    client = client_for(users["sales1"])
    response = client.post(reverse("api_tokens"), {"name": "ERP sync"})
    raw = re.search(r"(kehu_[A-Za-z0-9_\-]+)", response.content.decode()).group(1)
    listing = client.get(reverse("api_tokens")).content.decode()
    assert "ERP sync" in listing and raw not in listing
    from kehu.accounts.tokens import authenticate_token

    assert authenticate_token(raw) == users["sales1"]
    token = users["sales1"].api_tokens.get()
    # Another user cannot revoke it.
    assert client_for(users["sales1b"]).post(
        reverse("api_token_revoke", args=[token.pk])).status_code == 404
    client.post(reverse("api_token_revoke", args=[token.pk]))
    assert authenticate_token(raw) is None


def test_language_switch_to_chinese(users, customers):
    client = client_for(users["sales1"])
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    body = client.get(reverse("customers:list")).content.decode()
    assert "客户" in body and "新建客户" in body
    body = client.get(card_url(customers["east"])).content.decode()
    assert "基础资料" in body and "交易现状" in body
