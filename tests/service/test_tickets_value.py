"""Time spent on tickets is a cost to serve (or a relationship investment) in the value
refresh, at the hourly cost an admin sets; an open complaint keeps a valuable customer at
risk through the refresh."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.analytics.models import CustomerValue
from kehu.analytics.refresh import refresh_values
from kehu.analytics.services import set_activity_cost
from kehu.customers.models import Customer, LifecycleState, Transaction
from kehu.service.tickets import services
from kehu.service.tickets.models import TicketStatus

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2021, 12, 31)


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def small_firm(users):
    out = []
    for i, amount in enumerate(("900.00", "100.00", "50.00", "40.00", "30.00")):
        c = Customer.objects.create(name=f"Firm {i}", owner=users["sales1"],
                                    team_id=users["sales1"].team_id,
                                    lifecycle_state=LifecycleState.FIRST_PURCHASE)
        for day in (dt.date(2021, 3, 1), dt.date(2021, 9, 1)):
            Transaction.objects.create(customer=c, date=day, amount=Decimal(amount),
                                       cost=Decimal(amount) / 2)
        out.append(c)
    return out


def test_ticket_hours_cost_what_an_admin_sets_per_hour(small_firm, users):
    admin, big = users["admin"], small_firm[0]
    t = services.open_ticket(admin, big, subject="Jam", at=_at(dt.date(2021, 10, 1)))
    services.add_entry(admin, t, body="On the phone", minutes=90, at=_at(dt.date(2021, 10, 1)))
    # Work logged after the refresh's day does not count yet.
    services.add_entry(admin, t, body="Later", minutes=600, at=_at(dt.date(2022, 1, 5)))
    refresh_values(admin, as_of=AS_OF)
    assert CustomerValue.objects.get(customer=big).cost_to_serve == 0  # no rate set yet
    set_activity_cost(admin, "ticket", "60", investment=False)
    refresh_values(admin, as_of=AS_OF)
    value = CustomerValue.objects.get(customer=big)
    assert value.cost_to_serve == Decimal("90.00") and value.cost_to_serve_12m == Decimal("90.00")
    # Counted as an investment in the relationship instead, it no longer reduces the value.
    set_activity_cost(admin, "ticket", "60", investment=True)
    refresh_values(admin, as_of=AS_OF)
    value = CustomerValue.objects.get(customer=big)
    assert value.cost_to_serve == 0 and value.relationship_investment == Decimal("90.00")


def test_an_open_complaint_keeps_a_valuable_customer_at_risk(small_firm, users):
    admin, big, small = users["admin"], small_firm[0], small_firm[-1]
    refresh_values(admin, as_of=AS_OF)
    assert not CustomerValue.objects.get(customer=big).at_risk
    complaint = services.open_ticket(admin, big, kind="complaint", subject="Broken on arrival")
    services.open_ticket(admin, small, kind="complaint", subject="Late")
    assert CustomerValue.objects.get(customer=big).at_risk
    refresh_values(admin, as_of=AS_OF)
    assert CustomerValue.objects.get(customer=big).at_risk
    assert not CustomerValue.objects.get(customer=small).at_risk  # not valuable
    services.change_status(admin, complaint, TicketStatus.RESOLVED)
    refresh_values(admin, as_of=AS_OF)
    assert not CustomerValue.objects.get(customer=big).at_risk
