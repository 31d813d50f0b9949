"""Campaigns across the promotion mix (促销组合, seed 003) and the target lists they reach.

A target list is a saved filter over the customers' value scores and card (dynamic: its
members are whoever matches when it is read) or a list frozen at a date (its members are
stored). A campaign reaches its list's members once, when it is launched: each member is in
the hold-out group (对照组) or not by a hash of the campaign's seed and the customer, so the
assignment never changes; the results compare what both groups bought afterwards.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kehu.core.models import VersionedModel

__all__ = ["Campaign", "CampaignContact", "CampaignKind", "CampaignStatus", "Channel",
           "ContactGroup", "ContactOutcome", "ListKind", "TargetList", "TargetListMember"]


class ListKind(models.TextChoices):
    DYNAMIC = "dynamic", _("Dynamic (a saved filter)")
    FROZEN = "frozen", _("Frozen at a date")


class TargetList(VersionedModel):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=ListKind.choices,
                            default=ListKind.DYNAMIC)
    # The filter (kehu.marketing.campaigns.criteria): what a dynamic list matches, and what
    # a frozen list matched when it was frozen.
    criteria = models.JSONField(_("filter"), default=dict, blank=True)
    frozen_at = models.DateTimeField(_("frozen at"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="target_lists", verbose_name=_("owner"))
    # Denormalised from the owner, like a customer's, so that team scoping is one comparison.
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="target_lists", verbose_name=_("team"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("target list")
        verbose_name_plural = _("target lists")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "created_at"]),
                   models.Index(fields=["team", "created_at"])]

    def __str__(self) -> str:
        return self.name


class TargetListMember(models.Model):
    """A customer of a frozen list."""

    target_list = models.ForeignKey(TargetList, on_delete=models.CASCADE,
                                    related_name="members", verbose_name=_("target list"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="target_list_memberships",
                                 verbose_name=_("customer"))

    class Meta:
        verbose_name = _("target list member")
        verbose_name_plural = _("target list members")
        constraints = [models.UniqueConstraint(fields=["target_list", "customer"],
                                               name="marketing_one_membership_per_list")]

    def __str__(self) -> str:
        return f"{self.target_list_id}: {self.customer_id}"


class CampaignKind(models.TextChoices):
    """The four tools of the promotion mix (seed 003)."""

    ADVERTISING = "advertising", _("Advertising")
    PERSONAL_SELLING = "personal_selling", _("Personal selling")
    SALES_PROMOTION = "sales_promotion", _("Sales promotion")
    PUBLIC_RELATIONS = "public_relations", _("Public relations")


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone")
    VISIT = "visit", _("Visit")
    POST = "post", _("Post")
    WECHAT = "wechat", _("WeChat")
    MEDIA = "media", _("Media")
    EVENT = "event", _("Event")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")


class Campaign(VersionedModel):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("type"), max_length=20, choices=CampaignKind.choices)
    goal = models.TextField(_("goal"), blank=True)
    budget = models.DecimalField(_("budget"), max_digits=14, decimal_places=2, default=0,
                                 validators=[MinValueValidator(0)])
    # What it actually cost so far (the results' cost per response and ROI use it, the
    # budget until it is given).
    cost = models.DecimalField(_("cost"), max_digits=14, decimal_places=2, null=True,
                               blank=True, validators=[MinValueValidator(0)])
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=CampaignStatus.choices,
                              default=CampaignStatus.DRAFT, db_index=True)
    target_list = models.ForeignKey(TargetList, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="campaigns",
                                    verbose_name=_("target list"))
    holdout_percent = models.PositiveSmallIntegerField(
        _("hold-out group (%)"), default=10, validators=[MaxValueValidator(90)],
        help_text=_("This share of the list, drawn at random, receives nothing: the results "
                    "compare the others with it."))
    # Fixed when the campaign is created: the hold-out assignment is a hash of it and the
    # customer, so that it is the same every time it is worked out.
    seed = models.BigIntegerField(_("hold-out seed"), editable=False)
    attribution_days = models.PositiveSmallIntegerField(
        _("attribution window (days)"), default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("Purchases within this many days after the contact count for the "
                    "campaign."))
    subject = models.CharField(_("e-mail subject"), max_length=200, blank=True)
    message = models.TextField(_("message"), blank=True,
                               help_text=_("The e-mail's text, or what the owners are asked to "
                                           "do in a personal-selling campaign."))
    launched_at = models.DateTimeField(_("launched at"), null=True, blank=True)
    launched_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("launched by"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="campaigns", verbose_name=_("owner"))
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="campaigns", verbose_name=_("team"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_on", "-id"]
        indexes = [models.Index(fields=["owner", "starts_on"]),
                   models.Index(fields=["team", "starts_on"])]

    def __str__(self) -> str:
        return self.name

    @property
    def task_origin(self) -> str:
        """The origin of the tasks a personal-selling campaign opens (one per customer)."""
        return f"campaign:{self.pk}"

    @property
    def channel_labels(self) -> list[str]:
        labels = dict(Channel.choices)
        return [str(labels.get(c, c)) for c in self.channels]


class ContactGroup(models.TextChoices):
    TREATED = "treated", _("Contacted")
    HOLDOUT = "holdout", _("Hold-out group")


class ContactOutcome(models.TextChoices):
    # Handed to the send service, which checks consent as it sends: the customer's card and
    # the campaign's sends say whether it went out.
    SENT = "sent", _("E-mail queued (consent checked when sent)")
    NOT_SENT = "not_sent", _("Not sent (no consent or no address)")
    TASK = "task", _("Task for the owner")
    REACHED = "reached", _("Reached through the campaign's channels")
    HELD_OUT = "held_out", _("Held out")


class CampaignContact(models.Model):
    """One member of the campaign's list when it was launched: contacted, or held out."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="contacts",
                                 verbose_name=_("campaign"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="campaign_contacts", verbose_name=_("customer"))
    group = models.CharField(_("group"), max_length=10, choices=ContactGroup.choices)
    outcome = models.CharField(_("outcome"), max_length=10, choices=ContactOutcome.choices)
    contacted_at = models.DateTimeField(_("contacted at"))
    task = models.ForeignKey("tasks.Task", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name=_("task"))

    class Meta:
        verbose_name = _("campaign contact")
        verbose_name_plural = _("campaign contacts")
        constraints = [models.UniqueConstraint(fields=["campaign", "customer"],
                                               name="marketing_one_contact_per_campaign")]
        indexes = [models.Index(fields=["customer", "contacted_at"])]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.customer_id} ({self.group})"
