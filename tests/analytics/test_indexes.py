"""The scores table keeps only the indexes its readers use: the value refresh rewrites
every row, and each index costs every row an entry."""

from __future__ import annotations

import pytest
from django.db import connection

from kehu.analytics.models import CustomerValue

pytestmark = pytest.mark.django_db


def test_the_scores_are_indexed_by_what_lists_and_the_dashboard_read_them_by():
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "analytics_customervalue")
    indexes = sorted(c["columns"] for c in found.values()
                     if c["index"] and not c["primary_key"] and not c["unique"])
    # Customers at risk through a partial index: only they enter it.
    assert indexes == [["customer_id"], ["first_purchase"], ["net_contribution_12m"],
                       ["value_rank"]]
    assert "analytics_value_at_risk" in found


def test_customers_at_risk_are_still_found_with_the_partial_index_in_place(customers):
    from kehu.analytics.models import ValueRefresh

    run = ValueRefresh.objects.create(as_of="2024-03-01")
    for key, risky in [("east", True), ("north", False)]:
        CustomerValue.objects.create(customer=customers[key], refresh=run, at_risk=risky)
    assert list(CustomerValue.objects.filter(at_risk=True).values_list(
        "customer_id", flat=True)) == [customers["east"].pk]
