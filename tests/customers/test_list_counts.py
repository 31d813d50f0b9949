"""The customer list's counts are remembered, and never stale: every change to customers,
by the services or by a bulk UPDATE that no Django signal sees, counts afresh."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from kehu.customers import list_counts
from kehu.customers.models import Customer
from kehu.customers.selectors import CustomerFilters, customer_page
from kehu.customers.services import change_owner, create_customer, delete_customer

pytestmark = pytest.mark.django_db(transaction=True)


def count(user, **filters) -> int:
    return customer_page(user, CustomerFilters(**filters), limit=1).count


def true_count(user, **filters) -> int:
    from kehu.customers.selectors import filter_customers

    return filter_customers(user, CustomerFilters(**filters)).count()


def test_counts_follow_creates_deletes_and_owner_changes(users, customers, committed_db):
    admin, sales1, sales2 = users["admin"], users["sales1"], users["sales2"]
    views = [(admin, {}), (sales1, {}), (sales2, {}), (admin, {"q": "上海"}),
             (sales1, {"q": "shanghai"}), (users["manager1"], {"state": "prospect"})]

    def check():
        for user, filters in views:
            assert count(user, **filters) == true_count(user, **filters), (user, filters)

    check()
    before = count(admin)
    created = create_customer(admin, {"name": "上海浦东商行", "city": "上海"}, owner=sales1)
    assert count(admin) == before + 1
    check()
    change_owner(admin, created, sales2)
    check()
    assert count(sales2, q="上海") == 1
    Customer.objects.filter(pk=customers["north"].pk).update(owner=sales1, team=sales1.team)
    check()
    Customer.objects.filter(pk=customers["east_b"].pk).update(lifecycle_state="churned")
    check()
    delete_customer(admin, created)
    assert count(admin) == before
    check()


def test_a_count_asked_again_is_not_counted_again(users, customers, committed_db,
                                                  django_assert_num_queries):
    admin = users["admin"]
    filtered = Customer.objects.filter(name__contains="华")
    assert list_counts.exact_count(filtered) == 2
    with django_assert_num_queries(1):  # the generation only
        assert list_counts.exact_count(filtered) == 2
    create_customer(admin, {"name": "华南电子"}, owner=users["sales1"])
    with django_assert_num_queries(2):
        assert list_counts.exact_count(filtered) == 3


def test_a_rolled_back_change_leaves_no_count_behind(users, customers, committed_db):
    admin = users["admin"]
    before = count(admin)
    with pytest.raises(RuntimeError), transaction.atomic():
        create_customer(admin, {"name": "临时客户"}, owner=users["sales1"])
        assert count(admin) == before + 1  # its own change, counted, not remembered
        raise RuntimeError
    assert count(admin) == before
    # Another change after the rollback is counted too.
    create_customer(admin, {"name": "新客户"}, owner=users["sales1"])
    assert count(admin) == before + 1


def test_counts_reading_other_tables_are_not_remembered(users, customers, committed_db,
                                                        django_assert_num_queries):
    from kehu.loans.models import Loan

    # A filter through another table (loans here) is counted each time: changes there do
    # not raise the customer table's generation.
    filtered = Customer.objects.filter(pk__in=Loan.objects.values("customer_id"))
    with django_assert_num_queries(2):  # a plain COUNT each time
        assert list_counts.exact_count(filtered) == 0
        assert list_counts.exact_count(filtered) == 0


def test_lost_triggers_are_put_back_and_counts_start_afresh(users, customers, committed_db):
    admin = users["admin"]
    before = count(admin)
    list_counts.uninstall(connection)
    list_counts.install(connection)
    Customer.objects.filter(pk=customers["north"].pk).delete()
    assert count(admin) == before - 1
    list_counts.install(connection)  # idempotent
    assert count(admin) == before - 1
