"""Consent (同意) and what was sent under it.

`Consent` is the current answer of a customer (or one of its contact people) for one
channel or use; `ConsentChange` keeps every answer ever given, with its source and date, so
that the firm can show when and how a person agreed or objected (PIPL Art. 24, GDPR
Art. 21). `MarketingSend` records each marketing e-mail kehu sent, or refused to send and
why, at the moment of sending.

Channels (e-mail, SMS, phone, post, WeChat) are opt-in: nothing is sent on a channel
without consent given. The two uses (automated marketing, personalisation) are
objections: allowed until the person refuses them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.core.models import VersionedModel

__all__ = ["Channel", "Consent", "ConsentChange", "ConsentSource", "ConsentStatus",
           "MarketingSend", "SendStatus"]


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone")
    POST = "post", _("Post")
    WECHAT = "wechat", _("WeChat")
    # Uses rather than channels: allowed until refused.
    AUTOMATED = "automated", _("Automated marketing")
    PERSONALISATION = "personalisation", _("Personalisation")


# Channels on which nothing is sent without consent given (opt-in).
CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.PHONE, Channel.POST, Channel.WECHAT)
# Uses a person may object to; allowed while no refusal is recorded.
USES = (Channel.AUTOMATED, Channel.PERSONALISATION)


class ConsentStatus(models.TextChoices):
    GIVEN = "given", _("Given")
    REFUSED = "refused", _("Refused")


class ConsentSource(models.TextChoices):
    """How the firm learnt the person's answer."""

    FORM = "form", _("Signed form")
    WEBSITE = "website", _("Website")
    PHONE = "phone", _("By phone")
    IN_PERSON = "in_person", _("In person")
    EMAIL = "email", _("By e-mail")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribe link")
    IMPORT = "import", _("Imported")
    OTHER = "other", _("Other")


class Consent(VersionedModel):
    """The current answer for one customer (contact empty) or contact person and one
    channel or use. Written only by kehu.marketing.consent.services.set_consent, which
    appends a ConsentChange each time."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="consents", verbose_name=_("customer"))
    contact = models.ForeignKey("customers.Contact", null=True, blank=True,
                                on_delete=models.CASCADE, related_name="consents",
                                verbose_name=_("contact"))
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=10, choices=ConsentStatus.choices)
    source = models.CharField(_("source"), max_length=20, choices=ConsentSource.choices)
    # When the person gave or refused it (not when it was typed in).
    at = models.DateTimeField(_("date"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("recorded by"))

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["customer_id", "contact_id", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "channel"],
                                    condition=Q(contact__isnull=True),
                                    name="consent_one_per_customer_channel"),
            models.UniqueConstraint(fields=["contact", "channel"],
                                    condition=Q(contact__isnull=False),
                                    name="consent_one_per_contact_channel"),
        ]
        indexes = [models.Index(fields=["channel", "status"])]

    def __str__(self) -> str:
        return f"{self.customer_id}/{self.contact_id or '-'} {self.channel}: {self.status}"

    @property
    def is_use(self) -> bool:
        return self.channel in USES


class ConsentChange(models.Model):
    """One answer as it was recorded: the history of a Consent. Never changed."""

    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="changes",
                                verbose_name=_("consent"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="consent_changes", verbose_name=_("customer"))
    status = models.CharField(_("status"), max_length=10, choices=ConsentStatus.choices)
    source = models.CharField(_("source"), max_length=20, choices=ConsentSource.choices)
    at = models.DateTimeField(_("date"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("recorded by"))

    class Meta:
        verbose_name = _("consent change")
        verbose_name_plural = _("consent changes")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.consent_id}: {self.status} ({self.at:%Y-%m-%d})"


class SendStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    NO_CONSENT = "no_consent", _("Not sent: no consent to e-mail")
    REFUSED = "refused", _("Not sent: opted out")
    OBJECTED = "objected", _("Not sent: refused automated marketing or personalisation")
    NO_ADDRESS = "no_address", _("Not sent: no e-mail address")
    FAILED = "failed", _("Not sent: the mail server refused it")


class MarketingSend(models.Model):
    """One marketing e-mail to one customer or contact, as decided at the moment of
    sending: sent, or not sent and why. `origin` names what sent it ("campaign", "offer",
    "mailing") and `origin_id` its record, so that each part finds its own sends."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="marketing_sends", verbose_name=_("customer"))
    contact = models.ForeignKey("customers.Contact", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="marketing_sends",
                                verbose_name=_("contact"))
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices,
                               default=Channel.EMAIL)
    address = models.CharField(_("address"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    origin = models.CharField(_("sent for"), max_length=30, db_index=True)
    origin_id = models.PositiveIntegerField(_("record"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=SendStatus.choices)
    error = models.CharField(_("error"), max_length=300, blank=True)
    at = models.DateTimeField(_("when"), db_index=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("sent by"))
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+", verbose_name=_("job"))

    class Meta:
        verbose_name = _("marketing e-mail")
        verbose_name_plural = _("marketing e-mails")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["origin", "origin_id"]),
                   models.Index(fields=["customer", "-at"])]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.subject} ({self.status})"

    @property
    def sent(self) -> bool:
        return self.status == SendStatus.SENT
