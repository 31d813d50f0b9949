"""A search's page is read the way its number of matches calls for (kehu.customers.
search_index.matches_read_first), and the page is the same whichever way it is read."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from kehu.customers import selectors
from kehu.customers.models import Customer
from kehu.customers.search_index import matches_read_first, matching
from kehu.customers.selectors import CustomerFilters, customer_page

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="PostgreSQL's planner settings")


def _index_scans() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_indexscan')")
        return cursor.fetchone()[0]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_few_matches_are_read_through_the_search_index_and_many_are_walked(customers):
    few = matching(Customer.objects.all(), "华东贸易")
    with matches_read_first(few):
        assert _index_scans() == "off"
        assert [c.name for c in few.order_by("name_sort")] == ["上海华东贸易有限公司"]
    assert _index_scans() == "on"
    with matches_read_first(few, 2, at_most=1):
        assert _index_scans() == "on"


@postgres_only
def test_the_planner_settings_come_back_inside_a_callers_transaction(customers):
    # A test runs in a transaction, as a caller's atomic block would: SET LOCAL would
    # outlive the savepoint and turn index scans off for the rest of it.
    qs = matching(Customer.objects.all(), "机械")
    with transaction.atomic():
        with matches_read_first(qs, 1):
            assert _index_scans() == "off"
        assert _index_scans() == "on"
        assert Customer.objects.filter(pk=customers["north"].pk).exists()


def test_a_search_pages_the_same_whichever_way_it_is_read(users, customers, monkeypatch):
    from kehu.customers.services import create_customer

    admin = users["admin"]
    for i in range(7):
        create_customer(admin, {"name": f"王{'伟芳军杰'[i % 4]}贸易{i}号"}, owner=users["sales1"])
    create_customer(admin, {"name": "Wang Trading"}, owner=users["sales2"])

    def pages(sort: str) -> list[tuple[int, int]]:
        out, cursor = [], None
        while True:
            page = customer_page(admin, CustomerFilters(q="wang"), sort=sort, cursor=cursor,
                                 limit=3)
            out.append((page.count, *[c.pk for c in page.items]))
            cursor = page.next_cursor
            if not cursor:
                return out

    for sort in ("name", "created", "city"):
        read_first = pages(sort)  # 8 matches: read through the index and sorted
        monkeypatch.setattr(selectors, "READ_AND_SORT_CLUSTERED", 0)
        monkeypatch.setattr(selectors, "READ_AND_SORT_SCATTERED", 0)
        walked = pages(sort)  # left to the planner
        monkeypatch.undo()
        assert read_first == walked
        assert walked[0][0] == 8
        expected = list(matching(Customer.objects.all(), "wang").order_by(
            selectors.SORTS[sort], "pk").values_list("pk", flat=True))
        assert [pk for page in walked for pk in page[1:]] == expected
