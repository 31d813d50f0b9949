"""Credit control: ageing and punctuality worked by hand, exposure and the credit-limit flag
on orders, the overdue task that opens and closes, payments that never exceed an invoice,
and the sensitive tier kept from roles that may not see it on the card, the list and the
export."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from kehu.core.errors import NotPermitted
from kehu.customers.models import Customer
from kehu.customers.services import create_transaction, update_customer
from kehu.sales.credit import selectors
from kehu.sales.credit.figures import credit_check
from kehu.sales.credit.models import CreditFlag, Payment, Receivable
from kehu.sales.credit.services import (
    OVERDUE_ORIGIN,
    create_receivable,
    record_credit_incident,
    record_payment,
    update_receivable,
)
from kehu.tasks.models import Task, TaskStatus

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 30)
D = Decimal


def _invoice(admin, customer, due: dt.date, amount: str, number: str) -> Receivable:
    return create_receivable(admin, customer, issued_on=due - dt.timedelta(days=30),
                             due_on=due, amount=amount, number=number)


def _pay(admin, receivable, on: dt.date, amount: str) -> Payment:
    return record_payment(admin, receivable, paid_on=on, amount=amount)


@pytest.fixture
def book(users, customers):
    """East's invoices, one in every ageing bucket on TODAY, and two paid ones."""
    admin, east = users["admin"], customers["east"]
    days = lambda n: TODAY - dt.timedelta(days=n)  # noqa: E731 - days before TODAY
    out = {
        "current": _invoice(admin, east, TODAY + dt.timedelta(days=10), "100.00", "A"),
        "due_today": _invoice(admin, east, TODAY, "50.00", "B"),  # due today: not overdue
        "1-30": _invoice(admin, east, days(1), "200.00", "C"),
        "31-60": _invoice(admin, east, days(31), "300.00", "D"),
        "61-90": _invoice(admin, east, days(90), "400.00", "E"),
        "90+": _invoice(admin, east, days(91), "500.00", "F"),
        "on_time": _invoice(admin, east, days(100), "80.00", "G"),
        "late": _invoice(admin, east, days(60), "120.00", "H"),
    }
    _pay(admin, out["1-30"], days(0) - dt.timedelta(days=0), "50.00")  # 150 left open
    _pay(admin, out["on_time"], days(100), "80.00")
    _pay(admin, out["late"], days(55), "20.00")
    _pay(admin, out["late"], days(40), "100.00")  # settled 20 days after its due date
    return out


def test_ageing_and_overdue_worked_by_hand(book, users, customers):
    summary = selectors.credit_summary(users["manager1"], customers["east"], today=TODAY)
    ageing = {code: (amount, n) for code, amount, n in summary.ageing}
    assert ageing == {
        "current": (D("150.00"), 2),  # A 100 + B 50 (due today is not overdue)
        "1-30": (D("150.00"), 1),  # C 200 − 50 paid
        "31-60": (D("300.00"), 1),
        "61-90": (D("400.00"), 1),
        "90+": (D("500.00"), 1),
    }
    assert summary.open_total == D("1500.00")
    assert summary.overdue_total == D("1350.00")
    # Receivable A has no due-date row in the overdue filter of the list either.
    assert selectors.bucket_of(0) == "current" and selectors.bucket_of(1) == "1-30"
    assert selectors.bucket_of(90) == "61-90" and selectors.bucket_of(91) == "90+"


def test_punctuality_worked_by_hand(book, users, customers):
    p = selectors.credit_summary(users["manager1"], customers["east"], today=TODAY).punctuality
    # Due in the last 12 months and before today: C, D, E, F, G, H (A and B are not due yet).
    # On time: G only. Late: H paid 20 days late; C 1, D 31, E 90, F 91 days open past due.
    assert (p.due, p.on_time, p.late) == (6, 1, 5)
    assert p.share_on_time == D("17")  # 1 of 6
    assert p.average_days_late == D("46.6")  # (20 + 1 + 31 + 90 + 91) / 5


def test_the_card_explains_the_figures_to_a_manager(client, book, users, customers,
                                                     monkeypatch):
    client.force_login(users["manager1"])
    body = client.get(reverse("customers:card", args=[customers["east"].pk]),
                      {"tab": "credit"}).content.decode()
    assert 'id="credit-punctuality"' in body and "paid on time" in body
    assert "More than 90 days overdue" in body and "Open receivables" in body
    assert "Record a payment" in body


def test_the_sensitive_tier_stays_hidden_from_sales(client, book, users, customers):
    client.force_login(users["sales1"])  # owns East, but does not see the sensitive tier
    url = reverse("customers:card", args=[customers["east"].pk])
    body = client.get(url, {"tab": "credit"}).content.decode()
    assert 'id="credit-figures"' not in body and 'href="?tab=credit"' not in body
    assert "1,350" not in body and "Receivables" not in body
    assert client.get(reverse("sales:credit:receivables")).status_code == 403
    post = client.post(reverse("sales:credit:receivable_create", args=[customers["east"].pk]),
                       {"issued_on": "2026-01-01", "amount": "10"})
    assert post.status_code == 404
    with pytest.raises(NotPermitted):
        create_receivable(users["sales1"], customers["east"], issued_on=TODAY, amount="1")
    assert selectors.credit_summary(users["sales1"], customers["east"]) is None
    assert not selectors.receivables(users["sales1"]).exists()


def test_exports_leave_out_payment_terms_for_sales(users):
    from kehu.dataio.exports.services import customer_columns

    assert "payment_terms_days" not in [c.name for c in customer_columns(users["sales1"])]
    assert "payment_terms_days" in [c.name for c in customer_columns(users["manager1"])]


def test_scoping_a_manager_sees_their_teams_receivables_only(book, users, customers):
    north = _invoice(users["admin"], customers["north"], TODAY, "10.00", "N1")
    assert north not in selectors.receivables(users["manager1"])
    assert set(selectors.receivables(users["manager2"])) == {north}
    assert selectors.receivables(users["admin"]).count() == 9


def test_the_receivables_list_filters_by_bucket_owner_and_team(client, book, users, customers):
    _invoice(users["admin"], customers["east_b"], dt.date.today() - dt.timedelta(days=200),
             "70.00", "EB")
    client.force_login(users["manager1"])
    url = reverse("sales:credit:receivables")
    everything = client.get(url).content.decode()
    assert "Hangzhou Silk" in everything and "上海华东贸易有限公司" in everything
    only_b = client.get(url, {"owner": users["sales1b"].pk}).content.decode()
    assert "Hangzhou Silk" in only_b and "上海华东贸易有限公司" not in only_b
    refused = client.get(url, {"bucket": "nonsense"})
    assert refused.status_code == 400
    client.force_login(users["manager2"])
    assert "Hangzhou Silk" not in client.get(url).content.decode()


# The credit-limit flag ---------------------------------------------------------------------

def test_an_order_over_the_limit_is_flagged_with_its_figures(client, users, customers):
    admin, east = users["admin"], customers["east"]
    update_customer(admin, east, {"credit_limit": "1000.00"}, expected_version=None)
    east.refresh_from_db()
    _invoice(admin, east, TODAY, "700.00", "OPEN")
    assert credit_check(east, "300.00").over_limit is False  # exactly at the limit
    create_transaction(admin, east, date=TODAY, amount="300.00", number="SO-1")
    assert not CreditFlag.objects.exists()
    check = credit_check(east, "301.00")
    assert (check.exposure, check.over_limit, check.over_by) == (D("1001.00"), True, D("1.00"))
    create_transaction(admin, east, date=TODAY, amount="301.00", number="SO-2")
    flag = CreditFlag.objects.get()
    assert (flag.subject, flag.reference, flag.amount, flag.open_receivables,
            flag.credit_limit, flag.over_by) == ("order", "SO-2", D("301.00"), D("700.00"),
                                                 D("1000.00"), D("1.00"))
    # A return is never flagged; a customer without a limit never either.
    create_transaction(admin, east, date=TODAY, amount="5000", kind="return")
    create_transaction(admin, customers["north"], date=TODAY, amount="9999999")
    assert CreditFlag.objects.count() == 1
    # The flag shows on the card, with its figures, to the sensitive tier only.
    url = reverse("customers:card", args=[east.pk])
    client.force_login(users["manager1"])
    body = client.get(url).content.decode()
    assert 'id="credit-flag"' in body and "SO-2" in body and "over the limit" in body
    client.force_login(users["sales1"])
    body = client.get(url).content.decode()
    assert 'id="credit-flag"' not in body and "SO-2" not in body.split("<table")[0]


def test_an_opportunity_over_the_limit_is_flagged_and_marked_for_the_sensitive_tier(
        client, users, customers):
    from kehu.sales.pipeline.models import Stage
    from kehu.sales.pipeline.services import create_opportunity, update_opportunity

    admin, east = users["admin"], customers["east"]
    update_customer(admin, east, {"credit_limit": "1000.00"}, expected_version=None)
    east.refresh_from_db()
    _invoice(admin, east, TODAY, "700.00", "OPEN")
    stage = Stage.objects.filter(kind="open").order_by("order").first()
    fits = create_opportunity(admin, east, title="Fits", stage=stage, amount=D("300"),
                              expected_close=TODAY)
    assert not CreditFlag.objects.exists()
    update_opportunity(admin, fits, {"amount": D("450")}, expected_version=fits.version)
    flag = CreditFlag.objects.get()
    assert (flag.subject, flag.reference, flag.amount, flag.over_by) == (
        "opportunity", "Fits", D("450.00"), D("150.00"))
    # The board and the opportunity say so, with the figures, to those who see credit.
    client.force_login(users["manager1"])
    board = client.get(reverse("sales:pipeline")).content.decode()
    assert "Over credit limit by" in board
    page = client.get(reverse("sales:opportunity", args=[fits.pk])).content.decode()
    assert 'id="opp-credit"' in page and "1,150" in page
    client.force_login(users["sales1"])
    assert "Over credit limit" not in client.get(reverse("sales:pipeline")).content.decode()
    page = client.get(reverse("sales:opportunity", args=[fits.pk])).content.decode()
    assert 'id="opp-credit"' not in page
    # A won or lost opportunity is past the question; within the limit nothing shows.
    update_opportunity(admin, fits, {"amount": D("200")}, expected_version=fits.version + 1)
    client.force_login(users["manager1"])
    assert "Over credit limit" not in client.get(reverse("sales:pipeline")).content.decode()


def test_a_customer_without_a_limit_is_never_over():
    customer = Customer(credit_limit=None)
    assert credit_check.__doc__
    from kehu.sales.credit.figures import CreditCheck

    check = CreditCheck(customer.credit_limit, D("5"), D("10"))
    assert not check.over_limit and check.headroom is None and check.over_by == 0


# The overdue task ----------------------------------------------------------------------------

def test_overdue_makes_a_task_for_the_owner_and_paying_closes_it(users, customers, capsys):
    admin, east = users["admin"], customers["east"]
    today = dt.date.today()
    one = _invoice(admin, east, today - dt.timedelta(days=3), "100.00", "X1")
    two = _invoice(admin, east, today - dt.timedelta(days=40), "50.00", "X2")
    _invoice(admin, customers["north"], today + dt.timedelta(days=3), "10.00", "NOT-DUE")
    call_command("sales", "sweep", "--only", "overdue_receivables")
    assert "1" in capsys.readouterr().out
    task = Task.objects.get(origin=OVERDUE_ORIGIN)
    assert (task.customer_id, task.assignee_id, task.status) == (east.pk, users["sales1"].pk,
                                                                 TaskStatus.OPEN)
    assert "X2" in task.reason and "X1" in task.reason and "100" not in task.reason
    call_command("sales", "sweep", "--only", "overdue_receivables")  # once per customer
    assert Task.objects.filter(origin=OVERDUE_ORIGIN).count() == 1
    _pay(admin, one, today, "100.00")
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN  # X2 is still overdue
    _pay(admin, two, today, "20.00")
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    _pay(admin, two, today, "30.00")
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE


# Payments ------------------------------------------------------------------------------------

def test_a_payment_over_what_is_open_is_refused(users, customers):
    r = _invoice(users["admin"], customers["east"], TODAY, "100.00", "P")
    _pay(users["admin"], r, TODAY, "60.00")
    with pytest.raises(ValidationError, match="More than is open"):
        _pay(users["admin"], r, TODAY, "40.01")
    with pytest.raises(ValidationError):
        _pay(users["admin"], r, TODAY, "0")
    with pytest.raises(ValidationError):
        update_receivable(users["admin"], r, {"amount": D("59.99")})
    r.refresh_from_db()
    assert (r.paid, r.paid_on) == (D("60.00"), None)


def test_a_stale_edit_of_a_receivable_is_refused(users, customers):
    from kehu.core.errors import StaleVersion

    r = _invoice(users["admin"], customers["east"], TODAY, "100.00", "V")
    update_receivable(users["manager1"], r, {"notes": "first"}, version=1)
    with pytest.raises(StaleVersion, match="manager1"):
        update_receivable(users["admin"], r, {"notes": "second"}, version=1)


def test_a_stale_receivable_form_keeps_the_input_and_saves_on_purpose(users, customers, client):
    r = _invoice(users["admin"], customers["east"], TODAY, "100.00", "V")
    update_receivable(users["manager1"], r, {"notes": "first"}, version=1)
    url = reverse("sales:credit:receivable_edit", args=[customers["east"].pk, r.pk])
    form = {"number": r.number, "issued_on": r.issued_on.isoformat(),
            "due_on": r.due_on.isoformat(), "amount": "100.00", "notes": "second"}
    client.force_login(users["admin"])
    response = client.post(url, {**form, "version": 1})
    body = response.content.decode()
    assert response.status_code == 409 and "manager1" in body and 'value="second"' in body
    r.refresh_from_db()
    assert r.notes == "first"
    assert 'name="version" value="2"' in body
    assert client.post(url, {**form, "version": 2}).status_code == 302
    r.refresh_from_db()
    assert r.notes == "second"


def test_an_incident_keeps_its_evidence_as_text(users, customers, client):
    record_credit_incident(users["manager1"], customers["east"], kind="outside_territory",
                           occurred_on=TODAY, description="<script>alert(1)</script>窜货",
                           evidence="javascript:alert(1) https://evidence.example/r/1")
    client.force_login(users["manager1"])
    body = client.get(reverse("customers:card", args=[customers["east"].pk]),
                      {"tab": "credit"}).content.decode()
    assert "<script>alert(1)" not in body and "&lt;script&gt;" in body
    assert 'href="https://evidence.example/r/1"' in body and 'href="javascript' not in body
    with pytest.raises(ValidationError):
        record_credit_incident(users["manager1"], customers["east"], kind="rumour",
                               occurred_on=TODAY, description="x")


class TestPaymentAllocation(TestCase):
    """Whatever partial payments arrive, in whatever order of dates, a receivable's paid
    amount is their sum, never more than the invoice, and it is settled on the day of the
    latest payment exactly when the sum reaches the amount."""

    @settings(max_examples=25, deadline=None)
    @given(amount=st.integers(1, 100_000),
           payments=st.lists(st.tuples(st.integers(1, 60_000), st.integers(0, 90)),
                             min_size=1, max_size=6))
    def test_paid_is_the_sum_and_never_exceeds(self, amount, payments):
        from kehu.accounts.models import User
        from kehu.core.roles import Role
        from kehu.customers.services import create_customer

        admin = User.objects.create_user(username="boss", role=Role.ADMIN)
        customer = create_customer(admin, {"name": "Allocation Ltd"})
        r = create_receivable(admin, customer, issued_on=TODAY - dt.timedelta(days=100),
                              due_on=TODAY - dt.timedelta(days=50), amount=D(amount) / 100)
        taken: list[tuple[Decimal, dt.date]] = []
        for cents, days_ago in payments:
            value, on = D(cents) / 100, TODAY - dt.timedelta(days=days_ago)
            if sum(v for v, _d in taken) + value > r.amount:
                with pytest.raises(ValidationError):
                    record_payment(admin, r, paid_on=on, amount=value)
            else:
                record_payment(admin, r, paid_on=on, amount=value)
                taken.append((value, on))
        r.refresh_from_db()
        assert r.paid == sum((v for v, _d in taken), D(0)) <= r.amount
        if r.paid == r.amount:
            assert r.paid_on == max(d for _v, d in taken)
        else:
            assert r.paid_on is None
