"""The audit log names customers, scoped like every read: a name only to a reader who may
see the customer, a neutral label otherwise, and never the name of an erased customer."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kehu.audit.models import AuditEvent
from kehu.audit.naming import name_customers
from kehu.audit.services import record, record_list

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_log_names_the_customer_and_links_the_card(users, customers):
    east = customers["east"]
    record(users["sales1"], "customer.view", obj=east)
    body = _client(users["admin"]).get(reverse("audit:events")).content.decode()
    assert f'<a href="{reverse("customers:card", args=[east.pk])}">{east.name}</a>' in body


def test_a_list_read_names_its_first_customers_and_counts_the_rest(users, customers):
    from kehu.customers.services import create_customer

    more = [create_customer(users["admin"], {"name": f"Firm {i}"}, owner=users["sales1"])
            for i in range(6)]
    ids = [c.pk for c in customers.values()] + [c.pk for c in more]
    record_list(users["admin"], "customers", ids)
    body = _client(users["admin"]).get(reverse("audit:events"),
                                       {"action": "customer.list"}).content.decode()
    shown = sorted(ids)[:5]
    from kehu.customers.models import Customer

    names = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "name"))
    assert all(names[i] in body for i in shown)
    assert names[sorted(ids)[-1]] not in body
    assert "and 4 more" in body


def test_a_reader_who_may_not_see_the_customer_gets_a_neutral_label(users, customers):
    north, east = customers["north"], customers["east"]
    record(users["sales2"], "customer.view", obj=north)
    record(users["sales1"], "customer.view", obj=east)
    events = list(AuditEvent.objects.filter(action="customer.view").order_by("pk"))
    name_customers(users["sales1"], events)  # sales1 sees east, not north's team
    assert events[0].customer_ref.label == f"customer {north.pk} (not visible to you)"
    assert not events[0].customer_ref.linked
    assert events[1].customer_ref.label == east.name and events[1].customer_ref.linked


def test_an_erased_customer_is_never_named_and_names_come_in_one_query(users, customers):
    from kehu.customers.services import delete_customer
    from kehu.dataio.privacy.services import erase_customer

    east, north = customers["east"], customers["north"]
    record(users["sales1"], "customer.view", obj=east)
    officer = users["admin"]
    officer.privacy_officer = True
    officer.save(update_fields=["privacy_officer"])
    erase_customer(officer, east, reference="REQ-1")
    record(users["sales2"], "customer.view", obj=north)
    gone = customers["east_b"]
    record(users["sales1b"], "customer.view", obj=gone)
    delete_customer(users["admin"], gone)
    events = list(AuditEvent.objects.filter(customer_id__isnull=False))
    with CaptureQueriesContext(connection) as queries:
        name_customers(users["admin"], events)
    assert len(queries) <= 3  # names, existing ids, erasures: never one per row
    labels = {e.customer_id: e.customer_ref.label for e in events}
    assert labels[east.pk] == f"erased customer {east.pk}"
    assert labels[north.pk] == north.name
    assert labels[gone.pk] == f"customer {gone.pk} (deleted)"
    body = _client(users["admin"]).get(reverse("audit:events")).content.decode()
    assert "上海华东贸易有限公司" not in body and f"erased customer {east.pk}" in body
