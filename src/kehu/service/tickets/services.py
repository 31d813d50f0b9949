"""Writes to tickets: opening one (from the UI, the API or an e-mail), editing it, giving it
to someone, moving it between statuses, its conversation and the time spent, and the firm's
ticket categories. Each function is one transaction, checks who may do it, is audited, and
tells the other parts of service through kehu.service.tickets.signals."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.analytics.models import CustomerValue, ValueSegment
from kehu.analytics.services import raise_risk
from kehu.audit.services import record
from kehu.core import policy
from kehu.core.errors import NotPermitted, ServiceError, StaleVersion
from kehu.core.permissions import CONTRIBUTE, can
from kehu.customers.models import Contact
from kehu.service.tickets import signals
from kehu.service.tickets.models import (
    TRANSITIONS,
    EntryKind,
    StatusChange,
    Ticket,
    TicketCategory,
    TicketChannel,
    TicketEntry,
    TicketKind,
    TicketPriority,
    TicketStatus,
)
from kehu.tasks.models import TaskPriority
from kehu.tasks.services import NewTask, open_tasks

# The task a complaint from a valuable customer gives the customer's owner: one per ticket.
COMPLAINT_PREFIX = "ticket_complaint:"
# A customer is valuable enough for that when among the top fifth by value, or of high
# current value (kehu.analytics segments).
VALUABLE_PERCENTILE = 80.0
VALUABLE_SEGMENTS = (ValueSegment.INVEST, ValueSegment.MAINTAIN)
# Longest stretch of work one entry may log (a whole working day and then some).
MAX_MINUTES = 24 * 60

EDITABLE = ("subject", "description", "kind", "priority", "category", "channel", "contact")


def complaint_origin(ticket_id: int) -> str:
    return f"{COMPLAINT_PREFIX}{ticket_id}"


def _now(at: dt.datetime | None) -> dt.datetime:
    if at is None:
        return timezone.now()
    if timezone.is_naive(at):
        raise ServiceError(_("A time needs its time zone."))
    return at


def _check_work(user, customer) -> None:
    if not can(user, CONTRIBUTE, customer):
        raise NotPermitted(_("You may not work tickets of this customer."))


def _check_assignee(user, customer, assignee) -> None:
    if assignee is None:
        return
    if not policy.may_assign_ticket(user, assignee):
        raise NotPermitted(_("You may give a ticket only to yourself or, as a manager, to a "
                             "member of your team."), field="assignee")
    if not can(assignee, CONTRIBUTE, customer):
        raise ServiceError(_("%(user)s may not work tickets of this customer.")
                           % {"user": assignee}, field="assignee")


def _check_contact(customer, contact) -> None:
    if contact is not None and contact.customer_id != customer.pk:
        raise ServiceError(_("This contact belongs to another customer."), field="contact")


def _check_choices(kind: str, priority: str, channel: str) -> None:
    for field, value, choices, message in (
            ("kind", kind, TicketKind, _("Unknown kind of ticket.")),
            ("priority", priority, TicketPriority, _("Unknown priority.")),
            ("channel", channel, TicketChannel, _("Unknown channel."))):
        if value not in choices.values:
            raise ServiceError(message, field=field)


def _full_clean(ticket: Ticket) -> None:
    try:
        ticket.full_clean(exclude=["customer", "contact", "category", "assignee", "created_by",
                                   "updated_by"])
    except ValidationError as e:
        field, messages = next(iter(e.message_dict.items()))
        raise ServiceError(messages[0], field=field) from None


def _check_version(current: Ticket, expected: int | None) -> None:
    if expected is None or int(expected) == current.version:
        return
    who = str(current.updated_by) if current.updated_by_id else _("someone")
    raise StaleVersion(
        _("This ticket was changed by %(user)s since you opened it (it is now “%(status)s”). "
          "Reload to see their changes, then make yours again.")
        % {"user": who, "status": current.get_status_display()},
        current_version=current.version, changed_by=who)


def _locked(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update(of=("self",)).select_related(
        "customer", "updated_by").get(pk=ticket.pk)


def _is_valuable(customer) -> bool:
    """Whether the customer is among those whose complaint raises their risk."""
    value = CustomerValue.objects.filter(customer=customer).only(
        "value_percentile", "segment").first()
    if value is None:
        return False
    return (value.value_percentile or 0) >= VALUABLE_PERCENTILE or \
        value.segment in VALUABLE_SEGMENTS


def _complaint_follows(user, ticket: Ticket, *, ip, via) -> None:
    """A complaint from a valuable customer raises their risk and gives their owner a task."""
    if ticket.kind != TicketKind.COMPLAINT or not _is_valuable(ticket.customer):
        return
    raise_risk(user, ticket.customer, reason=f"{ticket.number} {ticket.subject}", ip=ip,
               via=via)
    customer = ticket.customer
    if customer.owner_id:
        open_tasks([NewTask(
            customer_id=customer.pk, assignee_id=customer.owner_id,
            title=_("Call about the complaint %(number)s") % {"number": ticket.number},
            origin=complaint_origin(ticket.pk), reason=ticket.subject[:300],
            due_on=timezone.localdate() + dt.timedelta(days=1),
            priority=TaskPriority.HIGH)], by=user if getattr(user, "pk", None) else None)


@transaction.atomic
def open_ticket(user, customer, *, subject: str, kind: str = TicketKind.ENQUIRY,
                priority: str = TicketPriority.NORMAL, channel: str = TicketChannel.PHONE,
                description: str = "", category: TicketCategory | None = None,
                contact: Contact | None = None, assignee=None, at: dt.datetime | None = None,
                email_message_id: str = "", sender: str = "", ip: str | None = None,
                via: str = "web") -> Ticket:
    """Open a ticket about `customer`. `user` None is the e-mail intake (no person). The
    description becomes the conversation's first entry: the customer's words when they
    wrote it (e-mail), else our note of what they said."""
    if user is not None:
        if not policy.may_work_tickets(user):
            raise NotPermitted(_("You may not open tickets."))
        _check_work(user, customer)
        _check_assignee(user, customer, assignee)
    subject = (subject or "").strip()
    if not subject:
        raise ServiceError(_("Give the ticket a subject."), field="subject")
    _check_choices(kind, priority, channel)
    _check_contact(customer, contact)
    now = _now(at)
    if now > timezone.now() + dt.timedelta(minutes=5):
        raise ServiceError(_("A ticket cannot be opened in the future."), field="opened_at")
    ticket = Ticket(customer=customer, contact=contact, kind=kind, priority=priority,
                    channel=channel, category=category, subject=subject[:200],
                    description=description, assignee=assignee, opened_at=now,
                    status=TicketStatus.NEW, email_message_id=email_message_id[:300],
                    created_by=user, updated_by=user)
    _full_clean(ticket)
    ticket.save()
    StatusChange.objects.create(ticket=ticket, from_status="", to_status=TicketStatus.NEW,
                                at=now, by=user)
    if assignee is not None:  # somebody has it: it is being worked
        ticket.status = TicketStatus.OPEN
        ticket.save(update_fields=["status"])
        StatusChange.objects.create(ticket=ticket, from_status=TicketStatus.NEW,
                                    to_status=TicketStatus.OPEN, at=now, by=user)
    if description.strip():
        TicketEntry.objects.create(
            ticket=ticket, at=now, author=user, body=description,
            kind=EntryKind.CUSTOMER if channel == TicketChannel.EMAIL else EntryKind.NOTE,
            sender=sender[:254], email_message_id=email_message_id[:300])
    record(user, "ticket.open", obj=ticket, ip=ip, via=via,
           detail={"kind": kind, "priority": priority, "channel": channel})
    _complaint_follows(user, ticket, ip=ip, via=via)
    signals.ticket_opened.send(sender=Ticket, ticket=ticket, user=user)
    return ticket


@transaction.atomic
def update_ticket(user, ticket: Ticket, data: dict[str, Any], *, expected_version: int | None,
                  ip: str | None = None, via: str = "web") -> Ticket:
    """Change any of EDITABLE. A stale `expected_version` is refused, naming who changed it."""
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise ServiceError(_("Unknown field: %(field)s") % {"field": sorted(unknown)[0]})
    _check_work(user, ticket.customer)
    current = _locked(ticket)
    _check_version(current, expected_version)
    changed = []
    for field in EDITABLE:
        if field not in data:
            continue
        value = data[field]
        if field in ("subject",):
            value = (value or "").strip()
            if not value:
                raise ServiceError(_("Give the ticket a subject."), field="subject")
        if field in ("category", "contact"):
            if (value.pk if value else None) != getattr(current, f"{field}_id"):
                setattr(current, field, value)
                changed.append(field)
            continue
        if getattr(current, field) != value:
            setattr(current, field, value)
            changed.append(field)
    _check_choices(current.kind, current.priority, current.channel)
    _check_contact(current.customer, current.contact)
    _full_clean(current)
    if not changed:
        return current
    was_complaint = ticket.kind == TicketKind.COMPLAINT
    current.version += 1
    current.updated_by = user
    current.save()
    record(user, "ticket.update", obj=current, ip=ip, via=via, detail={"fields": changed})
    if "kind" in changed and not was_complaint:
        _complaint_follows(user, current, ip=ip, via=via)
    signals.ticket_changed.send(sender=Ticket, ticket=current, user=user, changed=changed)
    return current


@transaction.atomic
def assign_ticket(user, ticket: Ticket, assignee, *, expected_version: int | None = None,
                  at: dt.datetime | None = None, ip: str | None = None,
                  via: str = "web") -> Ticket:
    """Make `assignee` responsible for the ticket (None: nobody). A new ticket given to
    somebody is in progress."""
    _check_work(user, ticket.customer)
    current = _locked(ticket)
    _check_version(current, expected_version)
    _check_assignee(user, current.customer, assignee)
    if (assignee.pk if assignee else None) == current.assignee_id:
        return current
    before = current.assignee_id
    current.assignee = assignee
    current.version += 1
    current.updated_by = user
    changed = ["assignee"]
    from_status = current.status
    if assignee is not None and current.status == TicketStatus.NEW:
        current.status = TicketStatus.OPEN
        StatusChange.objects.create(ticket=current, from_status=from_status,
                                    to_status=TicketStatus.OPEN, at=_now(at), by=user)
        changed.append("status")
    current.save()
    record(user, "ticket.assign", obj=current, ip=ip, via=via,
           detail={"from": before, "to": assignee.pk if assignee else None})
    signals.ticket_changed.send(sender=Ticket, ticket=current, user=user, changed=changed,
                                from_status=from_status)
    return current


def _first_contact(ticket: Ticket) -> bool:
    """Resolved at the first contact: the customer never had to wait on us or come back —
    no time waiting for them, never reopened, at most the one message that opened it."""
    changes = list(ticket.status_changes.values_list("from_status", "to_status"))
    if any(to == TicketStatus.WAITING for _f, to in changes):
        return False
    if any(f in (TicketStatus.RESOLVED, TicketStatus.CLOSED) for f, _t in changes):
        return False
    return ticket.entries.filter(kind=EntryKind.CUSTOMER).count() <= 1


def _move(user, current: Ticket, status: str, now: dt.datetime, *, note: str = "",
          first_contact: bool | None = None, resolution: str = "") -> str:
    """Put the locked ticket in `status`, keeping the history and the timestamps."""
    if status not in TicketStatus.values:
        raise ServiceError(_("Unknown status."), field="status")
    from_status = current.status
    if status not in TRANSITIONS[from_status]:
        raise ServiceError(_("A ticket that is “%(from)s” cannot become “%(to)s”.")
                           % {"from": current.get_status_display(),
                              "to": TicketStatus(status).label}, field="status")
    if now < current.opened_at:
        raise ServiceError(_("A ticket cannot change before it was opened."), field="at")
    if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED) and not current.resolved_at:
        current.resolved_at = now
        current.first_response_at = current.first_response_at or now
        current.first_contact_resolution = (_first_contact(current) if first_contact is None
                                            else bool(first_contact))
    if resolution:
        current.resolution = resolution
    if status == TicketStatus.CLOSED:
        current.closed_at = now
    if status in (TicketStatus.OPEN, TicketStatus.NEW, TicketStatus.WAITING) and \
            from_status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        current.resolved_at = current.closed_at = None
        current.first_contact_resolution = None
    current.status = status
    StatusChange.objects.create(ticket=current, from_status=from_status, to_status=status,
                                at=now, by=user if getattr(user, "pk", None) else None,
                                note=note[:300])
    return from_status


@transaction.atomic
def change_status(user, ticket: Ticket, status: str, *, expected_version: int | None = None,
                  note: str = "", first_contact: bool | None = None, resolution: str = "",
                  at: dt.datetime | None = None, ip: str | None = None,
                  via: str = "web") -> Ticket:
    """Move the ticket to `status` (TicketStatus): in progress, waiting for the customer
    (the service clocks pause), resolved (with whether it was solved at the first contact:
    worked out from the history unless the agent says), closed, or open again."""
    _check_work(user, ticket.customer)
    current = _locked(ticket)
    _check_version(current, expected_version)
    if status == current.status:
        return current
    from_status = _move(user, current, status, _now(at), note=note, first_contact=first_contact,
                        resolution=resolution)
    current.version += 1
    current.updated_by = user
    current.save()
    record(user, "ticket.status", obj=current, ip=ip, via=via,
           detail={"from": from_status, "to": status})
    signals.ticket_changed.send(sender=Ticket, ticket=current, user=user, changed=["status"],
                                from_status=from_status)
    if status == TicketStatus.CLOSED:
        signals.ticket_closed.send(sender=Ticket, ticket=current, user=user)
    return current


@transaction.atomic
def close_ticket(user, ticket: Ticket, *, expected_version: int | None = None,
                 resolution: str = "", first_contact: bool | None = None,
                 at: dt.datetime | None = None, ip: str | None = None,
                 via: str = "web") -> Ticket:
    """Close the ticket (resolving it first when it was not): the survey after a closed
    ticket goes out from here (signals.ticket_closed)."""
    return change_status(user, ticket, TicketStatus.CLOSED, expected_version=expected_version,
                         resolution=resolution, first_contact=first_contact, at=at, ip=ip,
                         via=via)


@transaction.atomic
def add_entry(user, ticket: Ticket, *, kind: str = EntryKind.NOTE, body: str = "",
              minutes: int = 0, waiting: bool = False, at: dt.datetime | None = None,
              sender: str = "", email_message_id: str = "", ip: str | None = None,
              via: str = "web") -> TicketEntry:
    """Add to the conversation: an internal note, our reply to the customer (the first one
    is the first response; with `waiting` the ticket then waits for the customer), or what
    the customer said (a ticket waiting for them, or resolved, is in progress again). The
    minutes spent count toward the customer's cost to serve. `user` None is e-mail intake."""
    if kind not in EntryKind.values:
        raise ServiceError(_("Unknown kind of entry."), field="kind")
    if user is not None:
        _check_work(user, ticket.customer)
    try:
        minutes = int(minutes or 0)
    except (TypeError, ValueError):
        raise ServiceError(_("Give the time spent in whole minutes."), field="minutes") from None
    if not 0 <= minutes <= MAX_MINUTES:
        raise ServiceError(_("Give the time spent in minutes, from 0 to %(max)d.")
                           % {"max": MAX_MINUTES}, field="minutes")
    body = (body or "").strip()
    if not body and not minutes:
        raise ServiceError(_("Write something, or log the time spent."), field="body")
    if kind != EntryKind.NOTE and not body:
        raise ServiceError(_("A message needs its text."), field="body")
    current = _locked(ticket)
    now = _now(at)
    if now < current.opened_at:
        raise ServiceError(_("A ticket cannot change before it was opened."), field="at")
    entry = TicketEntry.objects.create(ticket=current, kind=kind, body=body, minutes=minutes,
                                       at=now, author=user if getattr(user, "pk", None)
                                       else None, sender=sender[:254],
                                       email_message_id=email_message_id[:300])
    changed = ["entry"]
    from_status = current.status
    if kind == EntryKind.REPLY:
        if current.first_response_at is None:
            current.first_response_at = now
            changed.append("first_response_at")
        target = TicketStatus.WAITING if waiting else (
            TicketStatus.OPEN if current.status == TicketStatus.NEW else None)
        if target and target != current.status and target in TRANSITIONS[current.status]:
            _move(user, current, target, now)
            changed.append("status")
    elif kind == EntryKind.CUSTOMER and current.status in (TicketStatus.WAITING,
                                                           TicketStatus.RESOLVED):
        _move(user, current, TicketStatus.OPEN, now, note=_("The customer wrote."))
        changed.append("status")
    current.minutes_spent += minutes
    current.version += 1
    if user is not None:
        current.updated_by = user
    current.save()
    record(user, "ticket.entry", obj=current, ip=ip, via=via,
           detail={"kind": kind, "minutes": minutes})
    signals.ticket_changed.send(sender=Ticket, ticket=current, user=user, changed=changed,
                                from_status=from_status)
    return entry


# Categories (admins) -----------------------------------------------------------------------

def _settings_admin(user) -> None:
    if not policy.may_change_ticket_settings(user):
        raise NotPermitted(_("Only an administrator may change the ticket categories."))


@transaction.atomic
def save_category(user, category: TicketCategory | None, *, name_en: str, name_zh: str,
                  order: int = 0, ip: str | None = None, via: str = "web") -> TicketCategory:
    _settings_admin(user)
    name_en, name_zh = (name_en or "").strip(), (name_zh or "").strip()
    if not (name_en or name_zh):
        raise ServiceError(_("Give the category a name."), field="name_en")
    category = category or TicketCategory()
    category.name_en, category.name_zh, category.order = name_en[:80], name_zh[:80], int(order)
    category.save()
    record(user, "ticket.category", ip=ip, via=via,
           detail={"name": name_en or name_zh, "id": category.pk})
    return category


@transaction.atomic
def delete_category(user, category: TicketCategory, *, ip: str | None = None,
                    via: str = "web") -> None:
    """Remove a category; its tickets keep their other facts and have none."""
    _settings_admin(user)
    record(user, "ticket.category_delete", ip=ip, via=via,
           detail={"name": category.name_en or category.name_zh, "id": category.pk})
    category.delete()




@transaction.atomic
def receive_email(raw: bytes, *, at: dt.datetime | None = None) -> tuple[str, Ticket | None]:
    """File one e-mail (kehu.service.tickets.intake): onto the ticket its subject names, or
    as a new ticket of the sender's customer. Returns what happened — "opened", "threaded",
    "duplicate" or "unknown" (no customer could be matched: nothing is written) — and the
    ticket."""
    from kehu.service.tickets import intake
    from kehu.service.tickets.models import TicketChannel

    mail = intake.parse(raw)
    if intake.seen_before(mail):
        return "duplicate", None
    sender = intake.match_sender(mail.sender)
    if sender.customer is None:
        return "unknown", None
    ticket = intake.thread_of(mail, sender)
    if ticket is not None:
        add_entry(None, ticket, kind=EntryKind.CUSTOMER, body=mail.body or mail.subject,
                  at=at, sender=mail.sender, email_message_id=mail.message_id, via="email")
        return "threaded", Ticket.objects.get(pk=ticket.pk)
    subject = intake.clean_subject(mail.subject) or _("(no subject)")
    ticket = open_ticket(None, sender.customer, subject=subject, kind=intake.guess_kind(mail),
                         channel=TicketChannel.EMAIL, description=mail.body,
                         contact=sender.contact, at=at, sender=mail.sender,
                         email_message_id=mail.message_id, via="email")
    return "opened", ticket
