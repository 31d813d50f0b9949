"""A ticket's service-level clocks from opening to resolution: targets by service group and
priority, pauses while waiting for the customer, the warning before a breach, the escalation
to the manager at the breach, and `kehu service sweep`."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from kehu.customers.services import create_customer
from kehu.service.sla import sweep
from kehu.service.sla.models import ClockState, TicketClock
from kehu.service.tickets.services import add_entry, change_status, open_ticket
from kehu.tasks.models import Task, TaskStatus

pytestmark = pytest.mark.django_db
SH = dt.timezone(dt.timedelta(hours=8))
# Monday 30 November 2026; the default week is Monday–Friday 09:00–18:00, Saturday 09–12.
MON = dt.datetime(2026, 11, 30, 9, 0, tzinfo=SH)


def at(hours: float, day: int = 0) -> dt.datetime:
    return MON + dt.timedelta(days=day, hours=hours)


@pytest.fixture
def household(users):
    # A person: a household by the rule (urgent: 1 h to answer, 6 h to resolve).
    return create_customer(users["admin"], {"name": "王小明", "kind": "person"},
                           owner=users["sales1"])


def _open(users, customer, priority="urgent", when=MON, assignee="sales1"):
    return open_ticket(users["admin"], customer, subject="打印机卡纸", priority=priority,
                       assignee=users[assignee], at=when)


def _clock(ticket) -> TicketClock:
    return TicketClock.objects.get(ticket=ticket)


def _tasks(origin_prefix: str) -> list[Task]:
    return list(Task.objects.filter(origin__startswith=origin_prefix).order_by("pk"))


def test_a_ticket_gets_the_target_of_its_group_and_priority(users, household, customers):
    ticket = _open(users, household)
    clock = _clock(ticket)
    assert (clock.service_group, clock.priority) == ("household", "urgent")
    assert (clock.first_response_minutes, clock.resolution_minutes) == (60, 360)
    assert clock.first_response_due == at(1) and clock.resolution_due == at(6)
    # An organisation of unknown size keeps the card's group (SME: urgent 1 h / 8 h), and a
    # normal ticket opened Friday evening is due next week.
    friday = _open(users, customers["east"], priority="normal", when=at(18.5, day=4))
    clock = _clock(friday)
    assert clock.service_group == "sme"
    # 3 h on Saturday morning, then Monday from 09:00.
    assert clock.first_response_due == dt.datetime(2026, 12, 7, 10, tzinfo=SH)
    # 27 h: Saturday 3, Monday 9, Tuesday 9, Wednesday 6.
    assert clock.resolution_due == dt.datetime(2026, 12, 9, 15, tzinfo=SH)


def test_waiting_for_the_customer_stops_the_clock_and_moves_the_due_time(users, household):
    ticket = _open(users, household)
    # Answered at 09:30 (first response met), then waiting for the customer until Tuesday
    # 10:00; they write back and the ticket is in progress again.
    add_entry(users["admin"], ticket, kind="reply", body="请拍一张照片", waiting=True,
              at=at(0.5))
    clock = _clock(ticket)
    assert clock.first_response_state == ClockState.MET and clock.paused
    assert clock.resolution_due is None and clock.resolution_state == ClockState.PAUSED
    add_entry(users["admin"], ticket, kind="customer", body="照片已发", at=at(1, day=1))
    clock = _clock(ticket)
    assert not clock.paused
    # 30 min used on Monday; 5 h 30 min left from Tuesday 10:00.
    assert clock.resolution_due == at(6.5, day=1)
    change_status(users["admin"], ticket, "resolved", at=at(3, day=1))
    clock = _clock(ticket)
    assert clock.resolution_state == ClockState.MET and clock.next_due is None


def test_the_sweep_warns_before_the_breach_and_escalates_at_it(users, household):
    ticket = _open(users, household)
    assert sweep.run(at(0.5)) == 0  # 30 of 60 minutes left: no warning yet
    assert sweep.run(at(0.8)) == 1  # 12 minutes left, under 25 %
    warning = _tasks("sla_warn_first")[0]
    assert (warning.assignee, warning.customer) == (users["sales1"], household)
    assert warning.reason.startswith(ticket.number) and "2026-11-30 10:00" in warning.reason
    assert warning.shown_title == "Answer the ticket before its first-response target"
    assert sweep.run(at(0.9)) == 0  # once per ticket and target
    # Past 10:00 without an answer: the manager of the assignee's team is told.
    assert sweep.run(at(1.1)) == 1
    escalation = _tasks("sla_breach_first")[0]
    assert escalation.assignee == users["manager1"] and escalation.priority == "high"
    warning.refresh_from_db()
    assert warning.status == TaskStatus.DONE
    clock = _clock(ticket)
    assert clock.first_response_state == ClockState.BREACHED and clock.minutes_left == -6
    # Answering late closes nothing on the manager's list, and the target stays missed.
    add_entry(users["admin"], ticket, kind="reply", body="抱歉久等", at=at(1.2))
    assert _clock(ticket).first_response_state == ClockState.MISSED
    assert _tasks("sla_breach_first")[0].status == TaskStatus.OPEN


def test_an_answer_in_time_closes_the_warning(users, household):
    ticket = _open(users, household)
    sweep.run(at(0.8))
    add_entry(users["admin"], ticket, kind="reply", body="马上处理", at=at(0.9))
    assert _tasks("sla_warn_first")[0].status == TaskStatus.DONE
    assert _clock(ticket).first_response_state == ClockState.MET


def test_a_higher_priority_picks_its_own_target(users, household):
    from kehu.service.tickets.services import update_ticket

    ticket = _open(users, household, priority="low")
    assert _clock(ticket).first_response_minutes == 8 * 60
    update_ticket(users["admin"], ticket, {"priority": "high"}, expected_version=None)
    assert _clock(ticket).first_response_minutes == 2 * 60


def test_the_command_sweeps_as_of_a_given_time(users, household):
    _open(users, household)
    out = StringIO()
    call_command("service", "sweep", "--today", "2026-11-30T09:50", stdout=out)
    assert "Service-level warnings and escalations: 1" in out.getvalue()
    with pytest.raises(CommandError, match="neither a date"):
        call_command("service", "sweep", "--today", "30/11/2026")
    with pytest.raises(CommandError, match="no check named nope"):
        call_command("service", "sweep", "--only", "nope")


def test_the_queue_sorts_by_time_left_and_filters_by_service_level(users, household, customers):
    from django.template import Context, Template
    from django.utils import timezone

    from kehu.service.tickets.selectors import TicketFilters, queue

    now = timezone.now()
    late = _open(users, household, when=now - dt.timedelta(days=10))  # long overdue
    fresh = _open(users, customers["east"], priority="low", when=now)
    waiting = _open(users, customers["east_b"], priority="high", when=now, assignee="sales1b")
    add_entry(users["admin"], waiting, kind="reply", body="请补充信息", waiting=True, at=now)
    order = [t.pk for t in queue(users["admin"], TicketFilters(status="active",
                                                               sort="time_left"))]
    assert order == [late.pk, fresh.pk, waiting.pk]
    assert [t.pk for t in queue(users["admin"], TicketFilters(sla="breached"))] == [late.pk]
    assert [t.pk for t in queue(users["admin"], TicketFilters(sla="paused"))] == [waiting.pk]
    html = Template("{% load service_sla %}{% for t in ts %}{% sla_badge t %}|{% endfor %}") \
        .render(Context({"ts": queue(users["admin"], TicketFilters(sort="time_left"))}))
    badges = html.split("|")
    assert "sla-breached" in badges[0] and "overdue" in badges[0]
    assert "sla-running" in badges[1] and " left" in badges[1]
    assert "sla-paused" in badges[2]
