"""The search indexes survive what migrations do to the customer table."""

from __future__ import annotations

import pytest
from django.db import connection

from kehu.customers import search_index
from kehu.customers.models import Customer
from kehu.customers.search_index import matching


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite remakes tables to alter them")
def test_lost_triggers_are_put_back_and_the_index_rebuilt(users, customers):
    from kehu.customers.services import create_customer

    # What a migration that remakes customers_customer does to the triggers.
    with connection.cursor() as cursor:
        for fts in search_index.SQLITE_INDEXES:
            for name in search_index._sqlite_triggers(fts):
                cursor.execute(f"DROP TRIGGER {name}")
    created = create_customer(users["admin"], {"name": "苏州园林设计院"}, owner=users["sales1"])
    search_index.install(connection)
    found = matching(Customer.objects.all(), "园林设计")
    assert list(found) == [created]
    assert list(matching(Customer.objects.all(), "sz")) == [created]


def test_install_is_idempotent(customers):
    search_index.install(connection)
    search_index.install(connection)
    assert [c.name for c in matching(Customer.objects.all(), "华东贸易")] == [
        "上海华东贸易有限公司"]
