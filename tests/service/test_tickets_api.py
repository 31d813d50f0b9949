"""/api/v1/tickets: open, read, and change a ticket with the version read; a stale version
is refused with 409, and a resolution sent without its status is refused, not dropped."""

from __future__ import annotations

import pytest

from kehu.service.tickets.models import Ticket, TicketStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(api, customers):
    opened = api("service1").post("/tickets", {"customer": customers["east"].pk,
                                               "subject": "打印机卡纸"})
    assert opened.status_code == 201, opened.content
    return opened.json()


def test_a_ticket_is_changed_with_the_version_read(api, ticket):
    client = api("service1")
    url = f"/tickets/{ticket['id']}"
    changed = client.patch(url, {"version": ticket["version"], "priority": "high"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["priority"] == "high"
    stale = client.patch(url, {"version": ticket["version"], "subject": "x"})
    assert stale.status_code == 409
    assert Ticket.objects.get(pk=ticket["id"]).subject == "打印机卡纸"


def test_a_resolution_needs_its_status(api, ticket):
    client = api("service1")
    url = f"/tickets/{ticket['id']}"
    alone = client.patch(url, {"version": ticket["version"], "resolution": "换了搓纸轮"})
    assert alone.status_code == 422
    assert "resolution" in alone.content.decode()
    current = Ticket.objects.get(pk=ticket["id"])
    assert current.resolution == "" and current.version == ticket["version"]
    resolved = client.patch(url, {"version": ticket["version"], "status": "resolved",
                                  "resolution": "换了搓纸轮"})
    assert resolved.status_code == 200, resolved.content
    current.refresh_from_db()
    assert (current.status, current.resolution) == (TicketStatus.RESOLVED, "换了搓纸轮")
