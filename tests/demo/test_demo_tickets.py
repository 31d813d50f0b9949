"""The demo's tickets: every status and every kind, conversations with time spent, the
East team's for service1 to work, and histories in time order (the service clocks read
them)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from kehu.accounts.models import User
from kehu.service.tickets.models import Ticket, TicketKind, TicketStatus
from kehu.service.tickets.selectors import tickets

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
