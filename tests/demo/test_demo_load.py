"""`kehu demo load`: the demo firm a new user meets first."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from kehu.accounts.models import User
from kehu.core.roles import Role
from kehu.customers.models import Customer, Transaction, TransactionLine
from kehu.demo import loader

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def test_the_demo_firm_is_the_cdnow_history_with_its_users_and_loads_once():
    call_command("demo", "load")

    cdnow = Customer.objects.filter(external_id__startswith="CD")
    assert cdnow.count() == 23_570
    assert Transaction.objects.count() == 69_659
    assert TransactionLine.objects.count() == 69_659
    # The real amounts, but for cents where an order's unit price does not divide evenly.
    total = sum(sum(p[2] for p in rows) for rows in loader.read_cdnow().values())
    stored = sum(Transaction.objects.values_list("amount", flat=True), Decimal(0))
    assert abs(stored - total) < Decimal("0.005") * 69_659
    # The 18 months of history end yesterday.
    last = Transaction.objects.order_by("-date").first().date
    first = Transaction.objects.order_by("date").first().date
    assert last == timezone.localdate() - dt.timedelta(days=1)
    assert (last - first).days == (dt.date(1998, 6, 30) - dt.date(1997, 1, 1)).days

    for username, role, *_rest in loader.USERS:
        user = User.objects.get(username=username)
        assert user.check_password("kehu-demo") and user.role == role
    sales1, sales2 = User.objects.get(username="sales1"), User.objects.get(username="sales2")
    assert sales1.team != sales2.team
    own1 = set(Customer.objects.filter(owner=sales1).values_list("pk", flat=True))
    own2 = set(Customer.objects.filter(owner=sales2).values_list("pk", flat=True))
    assert own1 and own2 and not own1 & own2
    assert User.objects.get(username="manager1").role == Role.MANAGER
    # A customer file of East is on loan to sales2; sales1 waits for an answer from North.
    from kehu.loans import selectors as loans

    assert loans.card_loans(sales2, loans.loans(sales2, "borrowed").get().customer)["my_loan"]
    assert loans.to_decide(User.objects.get(username="manager2")).count() == 1

    # Every demo user has work on their workbench: overdue, due today, visits this week.
    from kehu.workbench import selectors as workbench

    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    for username, *_rest in loader.USERS:
        user = User.objects.get(username=username)
        due = workbench.due_counts(user, today)
        assert due.overdue and due.today, username
        assert workbench.my_tasks(user).count() >= 3, username
        if user.role in (Role.SALES, Role.MANAGER):
            visits = workbench.week_visits(user, monday)
            assert {v.task is not None for v in visits} == {True, False}, username

    # Every card has its first history entry, owner period and lifecycle transition.
    card = cdnow.get(external_id="CD00004")
    assert card.history.count() == 1
    assert card.owner_assignments.count() == 1
    assert card.lifecycle_transitions.count() == 1

    before = (Customer.objects.count(), Transaction.objects.count())
    sales1.set_password("changed")
    sales1.save()
    call_command("demo", "load")
    assert (Customer.objects.count(), Transaction.objects.count()) == before
    assert User.objects.get(username="sales1").check_password("kehu-demo")
