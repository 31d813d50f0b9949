"""Tickets: opening, working, waiting for the customer, resolving and closing, the history
the service clocks read, first-contact resolution, time spent, who may do what, and what a
complaint from a valuable customer sets off."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kehu.analytics.models import CustomerValue, ValueRefresh
from kehu.audit.models import AuditEvent
from kehu.core.errors import NotPermitted, ServiceError, StaleVersion
from kehu.service.tickets import selectors, services, signals
from kehu.service.tickets.models import (
    EntryKind,
    Ticket,
    TicketCategory,
    TicketStatus,
    format_number,
    parse_number,
)
from kehu.tasks.models import Task

pytestmark = pytest.mark.django_db


def _open(user, customer, **kw):
    kw.setdefault("subject", "打印机卡纸")
    return services.open_ticket(user, customer, **kw)


def test_a_ticket_is_opened_with_its_history_and_first_entry(users, customers):
    caught = []
    signals.ticket_opened.connect(lambda sender, **kw: caught.append(kw["ticket"].pk),
                                  weak=False, dispatch_uid="t-opened")
    try:
        t = _open(users["service1"], customers["east"], kind="repair", priority="high",
                  description="The printer jams on every page", category=TicketCategory
                  .objects.first())
    finally:
        signals.ticket_opened.disconnect(dispatch_uid="t-opened")
    assert caught == [t.pk]
    assert t.status == TicketStatus.NEW and t.number == format_number(t.pk)
    assert parse_number(f"Re: [{t.number}] jam") == t.pk
    assert [c.to_status for c in t.status_changes.all()] == ["new"]
    assert t.entries.get().body == "The printer jams on every page"
    assert AuditEvent.objects.filter(action="ticket.open", object_id=str(t.pk)).exists()


def test_default_categories_are_in_both_languages():
    names = {(c.name_en, c.name_zh) for c in TicketCategory.objects.all()}
    assert ("Product quality", "产品质量") in names


def test_bad_input_is_refused_with_a_message(users, customers):
    service1 = users["service1"]
    with pytest.raises(ServiceError, match="subject"):
        _open(service1, customers["east"], subject="  ")
    with pytest.raises(ServiceError) as e:
        _open(service1, customers["east"], kind="praise")
    assert e.value.field == "kind"
    future = timezone.now() + dt.timedelta(days=2)
    with pytest.raises(ServiceError, match="future"):
        _open(service1, customers["east"], at=future)


def test_scope_decides_who_may_open_and_see(users, customers):
    # service1 works team East's customers, not North's; marketing adds nothing anywhere.
    with pytest.raises(NotPermitted):
        _open(users["service1"], customers["north"])
    with pytest.raises(NotPermitted):
        _open(users["marketing1"], customers["east"])
    t = _open(users["service1"], customers["east"])
    assert selectors.tickets(users["sales1"]).filter(pk=t.pk).exists()
    assert not selectors.tickets(users["sales2"]).filter(pk=t.pk).exists()
    assert selectors.tickets(users["manager1"]).filter(pk=t.pk).exists()


def test_assigning_puts_a_new_ticket_in_progress_and_checks_who(users, customers):
    t = _open(users["service1"], customers["east"])
    with pytest.raises(NotPermitted):  # a service agent gives tickets only to themselves
        services.assign_ticket(users["service1"], t, users["sales1"])
    t = services.assign_ticket(users["service1"], t, users["service1"])
    assert t.status == TicketStatus.OPEN and t.assignee == users["service1"]
    with pytest.raises(ServiceError, match="may not work"):  # North's manager… of East
        services.assign_ticket(users["admin"], t, users["sales2"])
    t = services.assign_ticket(users["manager1"], t, users["sales1"])
    assert t.assignee == users["sales1"]


def test_a_stale_edit_is_refused_naming_who_changed_it(users, customers):
    t = _open(users["service1"], customers["east"])
    version = t.version
    services.update_ticket(users["manager1"], t, {"priority": "urgent"},
                           expected_version=version)
    with pytest.raises(StaleVersion, match="manager1"):
        services.update_ticket(users["service1"], t, {"subject": "Other"},
                               expected_version=version)


def test_waiting_for_the_customer_is_a_pause_the_clocks_can_read(users, customers):
    service1 = users["service1"]
    start = timezone.now() - dt.timedelta(hours=10)
    t = _open(service1, customers["east"], at=start)
    services.add_entry(service1, t, kind=EntryKind.REPLY, body="Please send the model number",
                       waiting=True, at=start + dt.timedelta(hours=1), minutes=10)
    t.refresh_from_db()
    assert t.status == TicketStatus.WAITING
    assert t.first_response_at == start + dt.timedelta(hours=1)
    # The customer answers: the ticket is in progress again by itself.
    services.add_entry(None, t, kind=EntryKind.CUSTOMER, body="HP-1020",
                       at=start + dt.timedelta(hours=4), via="email")
    t.refresh_from_db()
    assert t.status == TicketStatus.OPEN
    assert selectors.pauses(service1, t) == [(start + dt.timedelta(hours=1),
                                              start + dt.timedelta(hours=4))]
    t = services.change_status(service1, t, TicketStatus.RESOLVED,
                               at=start + dt.timedelta(hours=5))
    # It waited on the customer, so it was not solved at the first contact.
    assert t.first_contact_resolution is False
    assert t.resolved_at == start + dt.timedelta(hours=5)


def test_resolved_on_the_phone_is_first_contact_resolution_and_time_adds_up(users, customers):
    service1 = users["service1"]
    t = _open(service1, customers["east"], description="How do I reset the password?")
    services.add_entry(service1, t, body="Explained the reset", minutes=12)
    services.add_entry(service1, t, minutes=3)  # time alone, no text
    closed = []
    signals.ticket_closed.connect(lambda sender, **kw: closed.append(kw["ticket"].pk),
                                  weak=False, dispatch_uid="t-closed")
    try:
        t = services.close_ticket(service1, t, resolution="Reset it together")
    finally:
        signals.ticket_closed.disconnect(dispatch_uid="t-closed")
    assert closed == [t.pk]
    assert t.status == TicketStatus.CLOSED and t.first_contact_resolution is True
    assert t.resolved_at == t.closed_at and t.first_response_at is not None
    assert t.minutes_spent == 15 and str(t.hours_spent) == "0.25"
    assert [c.to_status for c in t.status_changes.all()] == ["new", "closed"]


def test_reopening_clears_resolution_and_forbidden_moves_are_refused(users, customers):
    service1 = users["service1"]
    t = _open(service1, customers["east"])
    t = services.change_status(service1, t, TicketStatus.RESOLVED)
    t = services.change_status(service1, t, TicketStatus.OPEN)
    assert t.resolved_at is None and t.first_contact_resolution is None
    t = services.change_status(service1, t, TicketStatus.RESOLVED)
    assert t.first_contact_resolution is False  # it came back once
    with pytest.raises(ServiceError, match="cannot become"):
        services.change_status(service1, t, TicketStatus.WAITING)
    with pytest.raises(ServiceError):
        services.add_entry(service1, t, minutes=-5)
    with pytest.raises(ServiceError, match="Write something"):
        services.add_entry(service1, t, body=" ")


def _scored(customer, percentile, segment=""):
    run = ValueRefresh.objects.create(as_of=timezone.localdate(), status="done")
    return CustomerValue.objects.create(customer=customer, refresh=run, purchase_days=3,
                                        value_percentile=percentile, segment=segment)


def test_a_valuable_customers_complaint_raises_risk_and_tasks_the_owner(users, customers):
    east, north = customers["east"], customers["north"]
    _scored(east, 95.0)
    t = _open(users["service1"], east, kind="complaint", subject="Delivery two weeks late")
    assert CustomerValue.objects.get(customer=east).at_risk is True
    task = Task.objects.get(customer=east, origin=services.complaint_origin(t.pk))
    assert task.assignee == users["sales1"] and task.priority == "high"
    assert t.number in task.title
    # A complaint from a customer of little value, or an enquiry, sets off nothing.
    _scored(north, 10.0, "minimise")
    _open(users["admin"], north, kind="complaint")
    _open(users["admin"], east, kind="enquiry")
    assert CustomerValue.objects.get(customer=north).at_risk is False
    assert Task.objects.filter(origin__startswith="ticket_complaint:").count() == 1


def test_an_enquiry_turned_complaint_follows_too(users, customers):
    east = customers["east"]
    _scored(east, 50.0, "invest")
    t = _open(users["service1"], east)
    services.update_ticket(users["service1"], t, {"kind": "complaint"}, expected_version=None)
    assert CustomerValue.objects.get(customer=east).at_risk is True


def test_the_queue_filters_and_sorts(users, customers):
    service1 = users["service1"]
    low = _open(service1, customers["east"], subject="Low one", priority="low")
    urgent = _open(service1, customers["east_b"], subject="Urgent one", priority="urgent")
    services.assign_ticket(service1, low, service1)
    q = selectors.queue
    assert list(q(service1, selectors.TicketFilters())) == [urgent, low]
    assert list(q(service1, selectors.TicketFilters(mine=True))) == [low]
    assert list(q(service1, selectors.TicketFilters(unassigned=True))) == [urgent]
    assert list(q(service1, selectors.TicketFilters(q=low.number))) == [low]
    assert list(q(service1, selectors.TicketFilters(q="Hangzhou"))) == [urgent]
    services.close_ticket(service1, urgent)
    assert list(q(service1, selectors.TicketFilters(status="active"))) == [low]


def test_categories_are_for_admins(users):
    with pytest.raises(NotPermitted):
        services.save_category(users["manager1"], None, name_en="X", name_zh="X")
    c = services.save_category(users["admin"], None, name_en="Returns", name_zh="退货",
                               order=5)
    assert c.name == "Returns"
    services.delete_category(users["admin"], c)
    assert not TicketCategory.objects.filter(pk=c.pk).exists()


def test_tickets_of_a_customer_follow_the_customer(users, customers):
    t = _open(users["service1"], customers["east"])
    assert Ticket.objects.get(pk=t.pk).customer == customers["east"]
