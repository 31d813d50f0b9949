"""Tickets (工单): what a customer asked of us or complained about, who works it, where it
stands, and everything said and done about it.

A ticket belongs to its customer's scope (kehu.core.permissions CUSTOMER_PATHS): who may
see the customer sees its tickets. Every change of status is kept (StatusChange), so that
the service-level clocks can read when a ticket was waiting for the customer."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.models import VersionedModel


class TicketKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    ENQUIRY = "enquiry", _("Enquiry")
    REPAIR = "repair", _("Repair")
    REQUEST = "request", _("Request")


class TicketPriority(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Low")


# Most pressing first, for ordering the queue.
PRIORITY_RANK = {TicketPriority.URGENT: 0, TicketPriority.HIGH: 1, TicketPriority.NORMAL: 2,
                 TicketPriority.LOW: 3}


class TicketStatus(models.TextChoices):
    NEW = "new", pgettext_lazy("ticket status", "New")
    OPEN = "open", _("In progress")
    WAITING = "waiting", _("Waiting for the customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# Statuses in which the ticket still asks for work from us or the customer.
ACTIVE_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.WAITING)
DONE_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CLOSED)

# Which status may follow which. A resolved or closed ticket may be opened again.
TRANSITIONS: dict[str, frozenset[str]] = {
    TicketStatus.NEW: frozenset({TicketStatus.OPEN, TicketStatus.WAITING, TicketStatus.RESOLVED,
                                 TicketStatus.CLOSED}),
    TicketStatus.OPEN: frozenset({TicketStatus.WAITING, TicketStatus.RESOLVED,
                                  TicketStatus.CLOSED}),
    TicketStatus.WAITING: frozenset({TicketStatus.OPEN, TicketStatus.RESOLVED,
                                     TicketStatus.CLOSED}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.OPEN, TicketStatus.CLOSED}),
    TicketStatus.CLOSED: frozenset({TicketStatus.OPEN}),
}


class TicketChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    WEB = "web", _("Web form")
    VISIT = "visit", _("Visit")
    API = "api", _("API")


class TicketCategory(models.Model):
    """What a ticket is about (product quality, delivery, billing …); admins keep the list."""

    name_en = models.CharField(_("name (English)"), max_length=80)
    name_zh = models.CharField(_("name (Chinese)"), max_length=80)
    order = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("ticket category")
        verbose_name_plural = _("ticket categories")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        lang = translation.get_language() or ""
        return (self.name_zh or self.name_en) if lang.startswith("zh") else \
            (self.name_en or self.name_zh)


DEFAULT_CATEGORIES = [
    ("Product quality", "产品质量", 10),
    ("Delivery", "物流配送", 20),
    ("Installation and repair", "安装维修", 30),
    ("Billing and invoices", "账单发票", 40),
    ("Using the product", "使用咨询", 50),
    ("Staff and service attitude", "服务态度", 60),
    ("Other", "其他", 90),
]


def ensure_default_categories(model=None, using: str = "default") -> None:
    """A firm always has categories to choose from: the defaults when there are none."""
    model = model or TicketCategory
    rows = model.objects.using(using)
    if not rows.exists():
        rows.bulk_create([model(name_en=en, name_zh=zh, order=order)
                          for en, zh, order in DEFAULT_CATEGORIES])


NUMBER_PREFIX = "T-"
# A ticket's number in an e-mail subject ("Re: [T-00042] Printer jams"): replies thread
# onto the ticket.
NUMBER_RE = re.compile(r"\[?\bT-(\d{1,12})\b\]?", re.IGNORECASE)


def format_number(pk: int) -> str:
    return f"{NUMBER_PREFIX}{pk:05d}"


def parse_number(text: str) -> int | None:
    """The ticket id a subject or a search names ("T-00042" → 42), else None."""
    found = NUMBER_RE.search(text or "")
    return int(found.group(1)) if found else None


class Ticket(VersionedModel):
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="tickets", verbose_name=_("customer"))
    contact = models.ForeignKey("customers.Contact", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="tickets",
                                verbose_name=_("contact"))
    kind = models.CharField(_("kind"), max_length=10, choices=TicketKind.choices,
                            default=TicketKind.ENQUIRY)
    priority = models.CharField(_("priority"), max_length=10, choices=TicketPriority.choices,
                                default=TicketPriority.NORMAL)
    category = models.ForeignKey(TicketCategory, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="tickets",
                                 verbose_name=_("category"))
    channel = models.CharField(_("channel"), max_length=10, choices=TicketChannel.choices,
                               default=TicketChannel.PHONE)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=TicketStatus.choices,
                              default=TicketStatus.NEW)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="tickets",
                                 verbose_name=_("assignee"))
    opened_at = models.DateTimeField(_("opened at"), db_index=True)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Solved at the first contact, without the customer having to come back (recorded when
    # the ticket is resolved; None while it is not).
    first_contact_resolution = models.BooleanField(_("resolved at first contact"), null=True,
                                                   blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    # Minutes logged on the ticket's entries, kept here so lists need no sum per row.
    minutes_spent = models.PositiveIntegerField(_("time spent (minutes)"), default=0)
    # The Message-ID of the e-mail that opened the ticket, so a message read twice is not a
    # second ticket.
    email_message_id = models.CharField(max_length=300, blank=True, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("opened by"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("changed by"))

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["status", "priority", "opened_at"]),
                   models.Index(fields=["assignee", "status"]),
                   models.Index(fields=["customer", "opened_at"])]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def number(self) -> str:
        return format_number(self.pk) if self.pk else ""

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def hours_spent(self) -> Decimal:
        return (Decimal(self.minutes_spent) / 60).quantize(Decimal("0.01"))


class EntryKind(models.TextChoices):
    NOTE = "note", _("Internal note")
    REPLY = "reply", _("Reply to the customer")
    CUSTOMER = "customer", _("Message from the customer")


class TicketEntry(models.Model):
    """One step of a ticket's conversation: an internal note, our reply, or what the
    customer wrote; with the minutes the step took us."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="entries",
                               verbose_name=_("ticket"))
    kind = models.CharField(_("kind"), max_length=10, choices=EntryKind.choices,
                            default=EntryKind.NOTE)
    body = models.TextField(_("text"), blank=True)
    minutes = models.PositiveIntegerField(_("time spent (minutes)"), default=0)
    at = models.DateTimeField(_("when"), db_index=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+",
                               verbose_name=_("author"))
    # Who wrote an e-mail we received (kind customer).
    sender = models.CharField(_("from"), max_length=254, blank=True)
    email_message_id = models.CharField(max_length=300, blank=True, db_index=True)

    class Meta:
        verbose_name = _("ticket entry")
        verbose_name_plural = _("ticket entries")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ticket", "at"])]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class StatusChange(models.Model):
    """One move of a ticket between statuses: who, when, from where, to where. The service
    clocks read the pauses (time spent waiting for the customer) from these rows."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="status_changes",
                               verbose_name=_("ticket"))
    from_status = models.CharField(_("from"), max_length=10, choices=TicketStatus.choices,
                                   blank=True)
    to_status = models.CharField(_("to"), max_length=10, choices=TicketStatus.choices)
    at = models.DateTimeField(_("when"), db_index=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                           on_delete=models.SET_NULL, related_name="+", verbose_name=_("by"))
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("ticket status change")
        verbose_name_plural = _("ticket status changes")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.from_status} → {self.to_status}"


def waiting_intervals(changes, until: dt.datetime | None = None
                      ) -> list[tuple[dt.datetime, dt.datetime | None]]:
    """The intervals a ticket spent waiting for the customer, from its status changes in
    time order: (start, end), the end None while it is still waiting (or `until` when
    given). The service-level clocks pause over these."""
    out: list[tuple[dt.datetime, dt.datetime | None]] = []
    start = None
    for change in changes:
        if change.to_status == TicketStatus.WAITING and start is None:
            start = change.at
        elif change.to_status != TicketStatus.WAITING and start is not None:
            out.append((start, change.at))
            start = None
    if start is not None:
        out.append((start, until))
    return out


__all__ = ["ACTIVE_STATUSES", "DEFAULT_CATEGORIES", "DONE_STATUSES", "EntryKind",
           "PRIORITY_RANK", "StatusChange", "TRANSITIONS", "Ticket", "TicketCategory",
           "TicketChannel", "TicketEntry", "TicketKind", "TicketPriority", "TicketStatus",
           "ensure_default_categories", "format_number", "parse_number", "waiting_intervals"]
