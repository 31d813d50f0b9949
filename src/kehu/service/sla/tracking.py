"""Each ticket's service-level clocks: worked out from the ticket (opened, first response,
resolved), its status history (the pauses), the customer's service group and value segment,
the target of its priority and the firm's calendar; saved on every change of the ticket and
by the sweep, which also warns the person working the ticket before a target is breached and
escalates to the manager when it is.

Statuses that stop the clocks: waiting for the customer (a pause), and resolved or closed
(nothing is asked of us; a ticket opened again runs on from where it stopped)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from kehu.service.sla import clock
from kehu.service.sla.calendar import Targets, hours_row, load_calendar
from kehu.service.sla.groups import groups_of
from kehu.service.sla.models import ClockState, TicketClock
from kehu.service.tickets.models import StatusChange, Ticket, TicketStatus

STOPPED = (TicketStatus.WAITING, TicketStatus.RESOLVED, TicketStatus.CLOSED)
DONE_STATES = (ClockState.MET, ClockState.MISSED, ClockState.NONE)


def stop_intervals(changes: Iterable[StatusChange]) -> list[clock.Pause]:
    """When the ticket was in a status that stops the clocks (changes in time order)."""
    out: list[clock.Pause] = []
    start = None
    for change in changes:
        if change.to_status in STOPPED and start is None:
            start = change.at
        elif change.to_status not in STOPPED and start is not None:
            out.append((start, change.at))
            start = None
    if start is not None:
        out.append((start, None))
    return out


@dataclass(frozen=True)
class Part:
    """One target of a ticket (first response or resolution) at an instant."""

    state: str
    due: dt.datetime | None = None
    left: dt.timedelta | None = None  # working time left (negative: overdue); None when done


def evaluate(calendar: clock.Calendar, start: dt.datetime, budget: dt.timedelta | None,
             done_at: dt.datetime | None, pauses: list[clock.Pause], now: dt.datetime,
             warn_share: float) -> Part:
    if budget is None:
        return Part(ClockState.NONE)
    if done_at is not None:
        before = [(a, done_at if b is None or b > done_at else b) for a, b in pauses
                  if a < done_at]
        due = clock.due(calendar, start, budget, before)
        return Part(ClockState.MET if due is not None and done_at <= due else ClockState.MISSED,
                    due)
    due = clock.due(calendar, start, budget, pauses)
    if due is None:  # standing still, with time left
        return Part(ClockState.PAUSED, None, budget - clock.elapsed(calendar, start, now, pauses))
    if now > due:
        return Part(ClockState.BREACHED, due, -clock.elapsed(calendar, due, now, pauses))
    left = clock.elapsed(calendar, now, due, pauses)
    state = ClockState.AT_RISK if left <= budget * warn_share else ClockState.RUNNING
    return Part(state, due, left)


def _minutes(value: dt.timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds() // 60)


class Context:
    """What working out many tickets' clocks needs, loaded once."""

    def __init__(self, now: dt.datetime | None = None) -> None:
        self.now = now or timezone.now()
        self.calendar = load_calendar()
        self.targets = Targets()
        self.warn_share = hours_row().warn_percent / 100


def _segments(customer_ids: list[int]) -> dict[int, str]:
    from kehu.analytics.models import CustomerValue

    return dict(CustomerValue.objects.filter(customer_id__in=customer_ids)
                .values_list("customer_id", "segment"))


def refresh_clocks(tickets: Iterable[Ticket], ctx: Context | None = None) -> list[TicketClock]:
    """Work out and save the clocks of these tickets (a few queries for any number)."""
    tickets = list(tickets)
    if not tickets:
        return []
    ctx = ctx or Context()
    ids = [t.pk for t in tickets]
    changes: dict[int, list[StatusChange]] = {i: [] for i in ids}
    for change in StatusChange.objects.filter(ticket_id__in=ids).order_by("ticket_id", "at",
                                                                          "id"):
        changes[change.ticket_id].append(change)
    customers = {t.customer_id: t.customer for t in tickets}
    groups = groups_of(customers.values())
    segments = _segments(list(customers))
    existing = TicketClock.objects.in_bulk(ids)
    out, new, old = [], [], []
    for ticket in tickets:
        row = existing.get(ticket.pk)
        if row is None or row.priority != ticket.priority:
            # The target is chosen when the ticket opens and again when its priority
            # changes; later changes of the table or of the customer's group do not move it.
            group = groups[ticket.customer_id].group
            segment = segments.get(ticket.customer_id, "") or ""
            budget = ctx.targets.budget(group, segment, ticket.priority)
            fields = {"service_group": group, "segment": segment, "priority": ticket.priority,
                      "first_response_minutes": _minutes(budget.first_response)
                      if budget else None,
                      "resolution_minutes": _minutes(budget.resolution) if budget else None}
            if row is None:
                row = TicketClock(ticket=ticket, computed_at=ctx.now, **fields)
                new.append(row)
            else:
                for k, v in fields.items():
                    setattr(row, k, v)
                old.append(row)
        else:
            old.append(row)
        _work_out(row, ticket, changes[ticket.pk], ctx)
        out.append(row)
    TicketClock.objects.bulk_create(new)
    TicketClock.objects.bulk_update(old, [
        "service_group", "segment", "priority", "first_response_minutes", "resolution_minutes",
        "first_response_due", "resolution_due", "first_response_state", "resolution_state",
        "minutes_left", "next_due", "paused", "computed_at"])
    return out


def _budget(minutes: int | None) -> dt.timedelta | None:
    return None if minutes is None else dt.timedelta(minutes=minutes)


def _work_out(row: TicketClock, ticket: Ticket, changes: list[StatusChange],
              ctx: Context) -> None:
    pauses = stop_intervals(changes)
    done = ticket.resolved_at if ticket.status in (TicketStatus.RESOLVED,
                                                    TicketStatus.CLOSED) else None
    first = evaluate(ctx.calendar, ticket.opened_at, _budget(row.first_response_minutes),
                     ticket.first_response_at, pauses, ctx.now, ctx.warn_share)
    resolution = evaluate(ctx.calendar, ticket.opened_at, _budget(row.resolution_minutes),
                          done, pauses, ctx.now, ctx.warn_share)
    row.first_response_state, row.first_response_due = first.state, first.due
    row.resolution_state, row.resolution_due = resolution.state, resolution.due
    nxt = first if first.state not in DONE_STATES else resolution
    row.paused = ticket.status == TicketStatus.WAITING
    row.minutes_left = _minutes(nxt.left)
    row.next_due = nxt.due if nxt.state not in DONE_STATES else None
    row.computed_at = ctx.now


def live_left(row: TicketClock, now: dt.datetime, calendar: clock.Calendar) -> int | None:
    """Working minutes left now (negative: overdue), from a saved clock without the ticket's
    history: exact while nothing changed since (a change recomputes the row)."""
    if row.next_due is None:
        return row.minutes_left
    if now <= row.next_due:
        return _minutes(clock.elapsed(calendar, now, row.next_due))
    return -_minutes(clock.elapsed(calendar, row.next_due, now))
