"""Loans of customer files (客户资料的借阅): a user asks to read a customer outside their
scope, giving a reason; the customer's owner or a manager of the owner's team approves or
refuses; an approved loan lets the borrower read the card, and nothing more, until its end.

A separate app rather than a module of kehu.customers: a loan has its own pages (the
borrower's list, the requests to decide, the register for managers), its own API, audit
codes and life cycle, and it touches the customer file only through the one scoping function
(kehu.core.permissions), which reads this table to let a borrower see what is lent.

When a loan or a request is over is computed from its dates whenever it is read (no cron):
`status_at()` and the queryset methods below say "ended" the moment the end date passes,
whether or not kehu.loans.services.close_ended_loans has written it down yet.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DEFAULT_DAYS = 7  # how long a loan lasts unless asked otherwise
MAX_DAYS = 30  # the longest loan anyone may ask for or grant
REQUEST_OPEN_DAYS = 14  # a request nobody answers lapses after this many days
MAX_OPEN_REQUESTS = 10  # open requests one user may have at a time


class LoanStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("On loan")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    RETURNED = "returned", _("Returned")
    EXPIRED = "expired", _("Ended")  # approved, and its end date has passed
    LAPSED = "lapsed", _("Lapsed")  # nobody answered within REQUEST_OPEN_DAYS


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def lapse_cutoff(now: datetime | None = None) -> datetime:
    """Requests asked before this are lapsed."""
    return _now(now) - timedelta(days=REQUEST_OPEN_DAYS)


class LoanQuerySet(models.QuerySet):
    def active(self, now: datetime | None = None) -> LoanQuerySet:
        """Loans that let their borrower read the customer at `now`."""
        now = _now(now)
        return self.filter(status=LoanStatus.APPROVED, starts_at__lte=now, ends_at__gt=now)

    def open_requests(self, now: datetime | None = None) -> LoanQuerySet:
        """Requests still waiting for an answer."""
        return self.filter(status=LoanStatus.REQUESTED, requested_at__gt=lapse_cutoff(now))

    def with_status(self, status: str, now: datetime | None = None) -> LoanQuerySet:
        """Loans whose status at `now` is `status`, counting those past their end date as
        ended (or lapsed) before anybody has written that down."""
        now = _now(now)
        if status == LoanStatus.REQUESTED:
            return self.open_requests(now)
        if status == LoanStatus.APPROVED:
            return self.active(now)
        if status == LoanStatus.EXPIRED:
            return self.filter(models.Q(status=LoanStatus.EXPIRED) | models.Q(
                status=LoanStatus.APPROVED, ends_at__lte=now))
        if status == LoanStatus.LAPSED:
            return self.filter(models.Q(status=LoanStatus.LAPSED) | models.Q(
                status=LoanStatus.REQUESTED, requested_at__lte=lapse_cutoff(now)))
        return self.filter(status=status)


class Loan(models.Model):
    # Null when nothing matched what the borrower asked for (the request is kept, and
    # answered exactly like one that matched: see kehu.loans.services.request_loan), or
    # when the customer was deleted since.
    customer = models.ForeignKey("customers.Customer", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="loans",
                                 verbose_name=_("customer"))
    matched = models.BooleanField(_("matched a customer"), default=False)
    borrower = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="loans", verbose_name=_("borrower"))
    # What the borrower typed: an external id, a name, a phone number or an e-mail address.
    asked_for = models.CharField(_("customer asked for"), max_length=200)
    reason = models.CharField(_("reason"), max_length=500)
    days = models.PositiveSmallIntegerField(
        _("days asked for"), default=DEFAULT_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DAYS)])
    status = models.CharField(_("status"), max_length=12, choices=LoanStatus.choices,
                              default=LoanStatus.REQUESTED)
    requested_at = models.DateTimeField(_("asked at"), default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    starts_at = models.DateTimeField(_("from"), null=True, blank=True)
    ends_at = models.DateTimeField(_("until"), null=True, blank=True)
    # When the request or loan stopped being open: refused, withdrawn, returned, ended, lapsed.
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+",
                                 verbose_name=_("ended by"))
    # When the borrower saw the answer (approval or refusal) on their loans page.
    seen_at = models.DateTimeField(_("answer seen at"), null=True, blank=True)

    objects = LoanQuerySet.as_manager()

    class Meta:
        verbose_name = _("loan of a customer file")
        verbose_name_plural = _("loans of customer files")
        ordering = ["-requested_at", "-id"]
        indexes = [
            # The scoping function's question on every read: what is lent to this user now.
            models.Index(fields=["borrower", "status", "ends_at"]),
            models.Index(fields=["customer", "status"]),
            models.Index(fields=["status", "requested_at"]),
            models.Index(fields=["requested_at", "id"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(days__gte=1, days__lte=MAX_DAYS),
                                   name="loans_loan_days_bounded"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.asked_for}"

    def status_at(self, now: datetime | None = None) -> str:
        """The status at `now`, with the end date and the request's lapse applied."""
        now = _now(now)
        if self.status == LoanStatus.APPROVED and self.ends_at is not None \
                and self.ends_at <= now:
            return LoanStatus.EXPIRED
        if self.status == LoanStatus.REQUESTED and self.requested_at <= lapse_cutoff(now):
            return LoanStatus.LAPSED
        return self.status

    def status_label(self, now: datetime | None = None) -> str:
        return str(LoanStatus(self.status_at(now)).label)

    @property
    def current_status(self) -> str:
        return self.status_at()

    @property
    def current_status_label(self) -> str:
        return self.status_label()

    @property
    def was_lent(self) -> bool:
        """Whether the borrower was ever allowed to read the customer (then they know it)."""
        return self.starts_at is not None

    @property
    def lapses_at(self) -> datetime:
        return self.requested_at + timedelta(days=REQUEST_OPEN_DAYS)
