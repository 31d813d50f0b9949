"""Activities: the timeline of notes, calls, visits, meetings and e-mails on a customer card:
what happened. What is still to be done is a task (kehu.tasks).

Also the firm's list of competitors, which opportunities and key-account plans name. The
sales areas with their own models (leads, the pipeline, key-account plans, credit) keep them
in their own packages; they are imported at the end of this module so that Django finds them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel


class ActivityKind(models.TextChoices):
    NOTE = "note", _("Note")
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("E-mail")


class Activity(TimeStampedModel):
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="activities", verbose_name=_("customer"))
    contact = models.ForeignKey("customers.Contact", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="activities",
                                verbose_name=_("contact"))
    kind = models.CharField(_("kind"), max_length=10, choices=ActivityKind.choices,
                            default=ActivityKind.NOTE)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("details"), blank=True)
    occurred_at = models.DateTimeField(_("when"), db_index=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                               related_name="activities", verbose_name=_("author"))

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["customer", "occurred_at"])]

    def __str__(self) -> str:
        return self.subject


class Competitor(TimeStampedModel):
    """A firm we meet in the customer's decisions; opportunities and key-account plans name it."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    website = models.URLField(_("website"), blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
from kehu.sales.credit.models import *  # noqa: E402,F401,F403
from kehu.sales.leads.models import *  # noqa: E402,F401,F403
from kehu.sales.pipeline.models import (  # noqa: E402,F401
    Opportunity,
    PipelineSettings,
    Stage,
    StageChange,
)
from kehu.sales.plans.models import AccountPlan, PlanCompetitor, PlanStep  # noqa: E402,F401
