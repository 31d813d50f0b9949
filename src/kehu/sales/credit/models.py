"""Receivables, their payments, credit incidents and credit-limit flags.

A receivable's `paid` and `paid_on` are kept by kehu.sales.credit.services.record_payment
from its payments (one place writes them), so that open and overdue amounts are sums over
one table; they are never typed in."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel, VersionedModel

__all__ = ["CreditFlag", "CreditIncident", "FlagSubject", "IncidentKind", "Payment",
           "PaymentMethod", "Receivable"]

positive = MinValueValidator(Decimal("0.01"), message=_("Must be more than zero."))


class Receivable(VersionedModel):
    """An invoice the customer owes us (应收账款): its amount and due date, and what has been
    paid against it."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="receivables", verbose_name=_("customer"))
    transaction = models.ForeignKey("customers.Transaction", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="receivables",
                                    verbose_name=_("transaction"))
    number = models.CharField(_("invoice number"), max_length=50, blank=True)
    issued_on = models.DateField(_("invoice date"))
    due_on = models.DateField(_("due date"), db_index=True)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2,
                                 validators=[positive])
    paid = models.DecimalField(_("paid"), max_digits=14, decimal_places=2,
                               default=Decimal("0"), editable=False)
    # The day the last payment settled it in full; empty while anything is open.
    paid_on = models.DateField(_("paid in full on"), null=True, blank=True, editable=False)
    notes = models.CharField(_("notes"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("last changed by"))

    class Meta:
        verbose_name = _("receivable")
        verbose_name_plural = _("receivables")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["customer", "due_on"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="receivable_amount"),
            models.CheckConstraint(
                condition=models.Q(paid__gte=0, paid__lte=models.F("amount")),
                name="receivable_paid_within_amount"),
            models.CheckConstraint(condition=models.Q(due_on__gte=models.F("issued_on")),
                                   name="receivable_due_after_issue"),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    @property
    def open_amount(self) -> Decimal:
        return self.amount - self.paid


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("Bank transfer")
    ACCEPTANCE = "acceptance", _("Bank acceptance bill")
    CHEQUE = "cheque", _("Cheque")
    CASH = "cash", _("Cash")
    OTHER = "other", _("Other")


class Payment(TimeStampedModel):
    """Money received against one receivable; several partial payments may settle it."""

    receivable = models.ForeignKey(Receivable, on_delete=models.CASCADE,
                                   related_name="payments", verbose_name=_("receivable"))
    paid_on = models.DateField(_("payment date"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2,
                                 validators=[positive])
    method = models.CharField(_("method"), max_length=12, choices=PaymentMethod.choices,
                              default=PaymentMethod.TRANSFER)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("recorded by"))

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["paid_on", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.paid_on} {self.amount}"


class IncidentKind(models.TextChoices):
    LATE_PAYMENT = "late_payment", _("Late payment")
    DUMPING = "dumping", _("Dumping below price")
    OUTSIDE_TERRITORY = "outside_territory", _("Selling outside their territory")
    OTHER = "other", _("Other")


class CreditIncident(TimeStampedModel):
    """A credit incident (信用事件): what the customer did, when, and the evidence for it — a
    reference to where it is kept (a document number, a file in the archive, a link)."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="credit_incident_records",
                                 verbose_name=_("customer"))
    kind = models.CharField(_("kind"), max_length=20, choices=IncidentKind.choices,
                            default=IncidentKind.OTHER)
    occurred_on = models.DateField(_("date"))
    description = models.TextField(_("description"))
    evidence = models.CharField(_("evidence"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("recorded by"))

    class Meta:
        verbose_name = _("credit incident")
        verbose_name_plural = _("credit incidents")
        ordering = ["-occurred_on", "-id"]
        indexes = [models.Index(fields=["customer", "occurred_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_on}"


class FlagSubject(models.TextChoices):
    ORDER = "order", _("Order")
    INVOICE = "invoice", _("Invoice")
    IMPORT = "import", _("Imported transactions")
    OPPORTUNITY = "opportunity", _("Opportunity")


class CreditFlag(models.Model):
    """An order, invoice or opportunity that took the customer's exposure over the credit
    limit when it was recorded, with the figures of that moment."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="credit_flags", verbose_name=_("customer"))
    subject = models.CharField(_("what"), max_length=12, choices=FlagSubject.choices)
    transaction = models.ForeignKey("customers.Transaction", null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="credit_flags",
                                    verbose_name=_("transaction"))
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    open_receivables = models.DecimalField(_("open receivables"), max_digits=14,
                                           decimal_places=2)
    credit_limit = models.DecimalField(_("credit limit"), max_digits=14, decimal_places=2)
    created_at = models.DateTimeField(_("flagged at"), auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("recorded by"))

    class Meta:
        verbose_name = _("credit-limit flag")
        verbose_name_plural = _("credit-limit flags")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_subject_display()} {self.reference}".strip()

    @property
    def exposure(self) -> Decimal:
        return self.open_receivables + self.amount

    @property
    def over_by(self) -> Decimal:
        return self.exposure - self.credit_limit
