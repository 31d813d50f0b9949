"""The service-level sweep (`kehu service sweep`, every few minutes from cron): bring the
clocks of every active ticket up to the minute, warn whoever works a ticket before a target is
breached (the share of the time left is a setting of the service hours), and at the breach
give the manager a task to step in (escalation). Each warning and escalation goes out once
per ticket and target; a warning task closes itself when the target is met."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import User
from kehu.core.roles import Role
from kehu.service.sla.models import ClockState, TicketClock
from kehu.service.sla.tracking import Context, refresh_clocks
from kehu.service.tickets.models import ACTIVE_STATUSES, Ticket
from kehu.tasks.models import TaskPriority
from kehu.tasks.services import NewTask, close_rule_tasks, open_tasks

SWEEP = "sla"
# Task origins, one open task per ticket: "<rule>:<ticket id>".
WARN_FIRST, WARN_RESOLVE = "sla_warn_first", "sla_warn_resolve"
BREACH_FIRST, BREACH_RESOLVE = "sla_breach_first", "sla_breach_resolve"

RULES = {
    WARN_FIRST: (_("Answer the ticket before its first-response target"),
                 _("The customer has not heard from us and the time of the service-level "
                   "target is nearly up: answer them now, or ask a colleague to.")),
    WARN_RESOLVE: (_("Resolve the ticket before its resolution target"),
                   _("The time to resolve this ticket is nearly up: solve it, or tell the "
                     "customer where it stands and mark it as waiting for them if it is.")),
    BREACH_FIRST: (_("Escalated: a ticket missed its first-response target"),
                   _("Nobody answered the customer in time. Step in: see that someone "
                     "answers today, and find out why it was missed.")),
    BREACH_RESOLVE: (_("Escalated: a ticket missed its resolution target"),
                     _("The ticket was not resolved in time. Step in: agree the next step "
                       "with whoever works it and tell the customer.")),
}


def origin(rule: str, ticket_id: int) -> str:
    return f"{rule}:{ticket_id}"


def _reason(ticket: Ticket, due: dt.datetime | None) -> str:
    when = timezone.localtime(due).strftime("%Y-%m-%d %H:%M") if due else ""
    return f"{ticket.number} · {ticket.subject}" + (f" · {when}" if when else "")


def _managers(team_ids: set[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for pk, team_id in (User.objects.filter(role=Role.MANAGER, is_active=True,
                                            team_id__in=team_ids)
                        .order_by("team_id", "pk").values_list("pk", "team_id")):
        out.setdefault(team_id, pk)
    return out


def _admin() -> int | None:
    return User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk") \
        .values_list("pk", flat=True).first()


def run(now: dt.datetime) -> int:
    """Refresh the active tickets' clocks as of `now`; open the warnings and escalations due.
    Returns how many tasks were opened."""
    tickets = list(Ticket.objects.filter(status__in=ACTIVE_STATUSES)
                   .select_related("customer", "assignee", "customer__owner"))
    clocks = refresh_clocks(tickets, Context(now))
    by_id = {t.pk: t for t in tickets}
    warn, breach = [], []
    for row in clocks:
        ticket = by_id[row.ticket_id]
        for state, due, warned, escalated, warn_rule, breach_rule in (
                (row.first_response_state, row.first_response_due, "first_warned_at",
                 "first_escalated_at", WARN_FIRST, BREACH_FIRST),
                (row.resolution_state, row.resolution_due, "resolution_warned_at",
                 "resolution_escalated_at", WARN_RESOLVE, BREACH_RESOLVE)):
            if state == ClockState.AT_RISK and getattr(row, warned) is None:
                warn.append((row, ticket, due, warned, warn_rule))
            elif state == ClockState.BREACHED and getattr(row, escalated) is None:
                breach.append((row, ticket, due, escalated, breach_rule))
    teams = {(t.assignee or t.customer.owner).team_id for _r, t, *_x in breach} - {None}
    managers = _managers(teams) if breach else {}
    admin = _admin() if breach else None
    new = []
    for row, ticket, due, field, rule in warn:
        worker = ticket.assignee_id or ticket.customer.owner_id
        new.append(NewTask(customer_id=ticket.customer_id, assignee_id=worker,
                           title=str(RULES[rule][0]), detail=str(RULES[rule][1]),
                           origin=origin(rule, ticket.pk), reason=_reason(ticket, due),
                           due_on=timezone.localdate(due) if due else None,
                           priority=TaskPriority.HIGH))
        setattr(row, field, now)
    for row, ticket, due, field, rule in breach:
        team = (ticket.assignee or ticket.customer.owner).team_id
        manager = managers.get(team) or admin or ticket.customer.owner_id
        new.append(NewTask(customer_id=ticket.customer_id, assignee_id=manager,
                           title=str(RULES[rule][0]), detail=str(RULES[rule][1]),
                           origin=origin(rule, ticket.pk), reason=_reason(ticket, due),
                           due_on=timezone.localdate(now), priority=TaskPriority.HIGH))
        setattr(row, field, now)
        # The warning has done its work: the escalation replaces it.
        close_rule_tasks(ticket.customer_id, origin(
            WARN_FIRST if rule == BREACH_FIRST else WARN_RESOLVE, ticket.pk), by=None,
            note=str(_("Escalated to the manager at the breach.")))
    made = open_tasks(new)
    TicketClock.objects.bulk_update(
        [row for row, *_x in warn + breach],
        ["first_warned_at", "resolution_warned_at", "first_escalated_at",
         "resolution_escalated_at"])
    return made


def close_met_warnings(ticket: Ticket, row: TicketClock) -> None:
    """A target met (or the ticket resolved) closes its open warning."""
    if row.first_response_state in (ClockState.MET, ClockState.MISSED):
        close_rule_tasks(ticket.customer_id, origin(WARN_FIRST, ticket.pk), by=None,
                         note=str(_("The customer was answered.")))
    if row.resolution_state in (ClockState.MET, ClockState.MISSED):
        close_rule_tasks(ticket.customer_id, origin(WARN_RESOLVE, ticket.pk), by=None,
                         note=str(_("The ticket was resolved.")))
