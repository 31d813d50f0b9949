"""The demo's tickets: every status and every kind, conversations with time spent, the
East team's for service1 to work, histories in time order (the service clocks read them),
and some past their service-level targets, escalated."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db.models import Q

from kehu.accounts.models import User
from kehu.core.roles import Role
from kehu.service.chain.selectors import service_dashboard
from kehu.service.tickets.models import ACTIVE_STATUSES, Ticket, TicketKind, TicketStatus
from kehu.service.tickets.selectors import tickets
from kehu.tasks.models import Task

pytestmark = pytest.mark.django_db


def test_the_demo_has_tickets_in_every_state_for_service1():
    call_command("demo", "load", "--language", "en", "--sample", "800")
    assert set(Ticket.objects.values_list("status", flat=True)) == set(TicketStatus.values)
    assert set(Ticket.objects.values_list("kind", flat=True)) == set(TicketKind.values)
    service1 = User.objects.get(username="service1")
    mine = tickets(service1)
    assert mine.count() >= 10 and mine.filter(assignee=service1).exists()
    assert Ticket.objects.filter(minutes_spent__gt=0).exists()
    assert Ticket.objects.filter(first_contact_resolution=True).exists()
    assert Ticket.objects.filter(first_contact_resolution=False).exists()
    for t in Ticket.objects.all():
        at = [c.at for c in t.status_changes.order_by("id")]
        assert at == sorted(at), t.number
        assert t.status_changes.order_by("id").last().to_status == t.status
    english = Ticket.objects.filter(subject="Order arrived two weeks late")
    assert english.exists()
    # The load ends with the service-level sweep: the week-old tickets are past their
    # targets and escalated to a manager, in English.
    breached = Ticket.objects.filter(Q(sla__first_response_state="breached")
                                     | Q(sla__resolution_state="breached"))
    assert breached.filter(status__in=ACTIVE_STATUSES).count() >= 2
    escalations = Task.objects.filter(origin__startswith="sla_breach_", status="open")
    assert escalations.filter(assignee__role=Role.MANAGER).exists()
    assert all(t.title.startswith("Escalated") for t in escalations)
    assert service_dashboard(User.objects.get(username="admin")).breaching >= 2
