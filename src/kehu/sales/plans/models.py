"""The key-account plan and what hangs off it: a sheet per competitor and the steps of the
action plan."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kehu.core.models import VersionedModel


class RelationshipLevel(models.TextChoices):
    """Where the relationship with the customer stands (seed 001: 买卖关系, 利益关系,
    伙伴关系)."""

    TRANSACTIONAL = "transactional", _("Transactional")
    INTEREST = "interest", _("Interest-based")
    PARTNERSHIP = "partnership", _("Partnership")


class BuyingOrientation(models.TextChoices):
    """How the customer buys (seed 002's three behavioural segments)."""

    STRATEGY = "strategy", _("Strategy-oriented")
    PRICE = "price", _("Price-oriented")
    SOLUTION = "solution", _("Solution-oriented")


class AccountPlan(VersionedModel):
    """The plan for one key customer (one plan per customer, revised over time; its history
    keeps every earlier version)."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE,
                                    related_name="account_plan", verbose_name=_("customer"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="account_plans", verbose_name=_("owner"))
    situation = models.TextField(_("the customer's situation"), blank=True)
    challenges = models.TextField(_("challenges they face"), blank=True)
    strategy = models.TextField(_("their strategy"), blank=True)
    decision_factors = models.TextField(_("what drives their decisions"), blank=True)
    objectives = models.TextField(_("our objectives"), blank=True)
    relationship_level = models.CharField(_("relationship level"), max_length=15,
                                          choices=RelationshipLevel.choices, blank=True)
    buying_orientation = models.CharField(_("buying orientation"), max_length=10,
                                          choices=BuyingOrientation.choices, blank=True)
    review_on = models.DateField(_("next review"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("account plan")
        verbose_name_plural = _("account plans")
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return str(self.customer)


class PlanCompetitor(VersionedModel):
    """One competitor in the plan, answering seed 001's six questions about them."""

    plan = models.ForeignKey(AccountPlan, on_delete=models.CASCADE, related_name="competitors",
                             verbose_name=_("account plan"))
    competitor = models.ForeignKey("sales.Competitor", on_delete=models.PROTECT,
                                   related_name="plan_sheets", verbose_name=_("competitor"))
    who_they_are = models.TextField(_("who they are"), blank=True)
    positioning = models.TextField(_("strategy and positioning"), blank=True)
    relationship_levers = models.TextField(_("how they bind the customer"), blank=True)
    strengths = models.TextField(_("strengths"), blank=True)
    weaknesses = models.TextField(_("weak points"), blank=True)
    organisation = models.TextField(_("how they are organised"), blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("competitor sheet")
        verbose_name_plural = _("competitor sheets")
        ordering = ["competitor__name", "id"]
        constraints = [models.UniqueConstraint(fields=["plan", "competitor"],
                                               name="sales_plan_competitor_once")]

    def __str__(self) -> str:
        return str(self.competitor)


SHEET_FIELDS = ("who_they_are", "positioning", "relationship_levers", "strengths",
                "weaknesses", "organisation")


class PlanStep(VersionedModel):
    """A step of the action plan: what, who, by when. Its task on the owner's workbench
    (kehu.tasks) says whether it is done."""

    plan = models.ForeignKey(AccountPlan, on_delete=models.CASCADE, related_name="steps",
                             verbose_name=_("account plan"))
    title = models.CharField(_("step"), max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("owner"))
    due_on = models.DateField(_("due on"))
    task = models.ForeignKey("tasks.Task", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name=_("task"))

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("plan step")
        verbose_name_plural = _("plan steps")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def origin(self) -> str:
        """The origin of the step's task: one open task per step."""
        return f"plan_step:{self.pk}"
