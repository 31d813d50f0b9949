"""Opportunities (商机) on the sales pipeline (销售漏斗): stages an admin configures, each
with the probability of winning, the opportunities themselves, and every move between stages.

An opportunity belongs to its customer's scope (kehu.core.permissions CUSTOMER_PATHS): who
may see the customer sees its opportunities. Its owner is someone who may see the customer."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from kehu.core.models import VersionedModel


class StageKind(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class Stage(models.Model):
    """A step of the pipeline. Open stages are ordered and carry the chance of winning; the
    two closing stages (won 100 %, lost 0 %) are always there."""

    name_en = models.CharField(_("name (English)"), max_length=60)
    name_zh = models.CharField(_("name (Chinese)"), max_length=60)
    order = models.PositiveSmallIntegerField(_("position"), default=0)
    probability = models.PositiveSmallIntegerField(
        _("win probability (%)"), validators=[MinValueValidator(0), MaxValueValidator(100)])
    kind = models.CharField(_("kind"), max_length=4, choices=StageKind.choices,
                            default=StageKind.OPEN)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(probability__lte=100),
                                   name="sales_stage_probability_at_most_100"),
            models.UniqueConstraint(fields=["kind"], condition=~models.Q(kind="open"),
                                    name="sales_stage_one_won_one_lost"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the reader's language."""
        lang = translation.get_language() or ""
        return (self.name_zh or self.name_en) if lang.startswith("zh") else \
            (self.name_en or self.name_zh)

    @property
    def is_open(self) -> bool:
        return self.kind == StageKind.OPEN

    @property
    def is_closed(self) -> bool:
        return self.kind != StageKind.OPEN


# name_en, name_zh, position, probability, kind: the stages a new firm starts with.
DEFAULT_STAGES = [
    ("Qualification", "初步接洽", 10, 10, StageKind.OPEN),
    ("Needs analysis", "需求分析", 20, 25, StageKind.OPEN),
    ("Proposal", "方案报价", 30, 50, StageKind.OPEN),
    ("Negotiation", "商务谈判", 40, 75, StageKind.OPEN),
    ("Won", "赢单", 90, 100, StageKind.WON),
    ("Lost", "输单", 100, 0, StageKind.LOST),
]


def ensure_default_stages(stage_model=None, using: str = "default") -> None:
    """A pipeline always has stages: the defaults when there are none at all (after the
    first migration, or after a database was emptied), and the won and lost stages."""
    stage_model = stage_model or Stage
    stages = stage_model.objects.using(using)
    if not stages.exists():
        stages.bulk_create([stage_model(name_en=en, name_zh=zh, order=order, probability=p,
                                        kind=kind) for en, zh, order, p, kind in DEFAULT_STAGES])
        return
    for en, zh, order, p, kind in DEFAULT_STAGES:
        if kind != StageKind.OPEN and not stages.filter(kind=kind).exists():
            stages.create(name_en=en, name_zh=zh, order=order, probability=p, kind=kind)


class LostReason(models.TextChoices):
    PRICE = "price", _("Price too high")
    COMPETITOR = "competitor", _("Chose a competitor")
    NO_BUDGET = "no_budget", _("No budget")
    NO_DECISION = "no_decision", _("No decision")
    PRODUCT_FIT = "product_fit", _("Product does not fit")
    TIMING = "timing", _("Bad timing")
    OTHER = "other", _("Other")


class Opportunity(VersionedModel):
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="opportunities", verbose_name=_("customer"))
    title = models.CharField(_("title"), max_length=200)
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="opportunities",
                              verbose_name=_("stage"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2,
                                 default=Decimal("0"),
                                 validators=[MinValueValidator(Decimal("0"))])
    expected_close = models.DateField(_("expected close date"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="opportunities", verbose_name=_("owner"))
    products = models.ManyToManyField("customers.Product", blank=True, related_name="+",
                                      verbose_name=_("products"))
    competitors = models.ManyToManyField("sales.Competitor", blank=True,
                                         related_name="opportunities",
                                         verbose_name=_("competitors"))
    description = models.TextField(_("description"), blank=True)
    lost_reason = models.CharField(_("lost reason"), max_length=20, blank=True,
                                   choices=LostReason.choices)
    lost_note = models.CharField(_("why it was lost"), max_length=300, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    # The last time somebody did something about it: created, edited, moved a stage. An
    # activity on the customer counts too (see selectors.last_touched).
    touched_at = models.DateTimeField(_("last touched"), db_index=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("changed by"))

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["expected_close", "id"]
        indexes = [models.Index(fields=["stage", "expected_close"]),
                   models.Index(fields=["owner", "stage"]),
                   models.Index(fields=["customer", "stage"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0),
                                   name="sales_opportunity_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def weighted_amount(self) -> Decimal:
        return (self.amount * self.stage.probability / 100).quantize(Decimal("0.01"))


class StageChange(models.Model):
    """One move of an opportunity between stages: who, when, from where, to where."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE,
                                    related_name="stage_changes",
                                    verbose_name=_("opportunity"))
    # Empty when the opportunity was created (from) or when an admin removed the stage.
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("from"))
    to_stage = models.ForeignKey(Stage, null=True, on_delete=models.SET_NULL, related_name="+",
                                 verbose_name=_("to"))
    at = models.DateTimeField(_("when"), auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                           on_delete=models.SET_NULL, related_name="+", verbose_name=_("by"))

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.from_stage_id} → {self.to_stage_id}"


class PipelineSettings(models.Model):
    """The pipeline's settings, one row (pk=1), edited by admins."""

    stale_after_days = models.PositiveSmallIntegerField(
        _("stale after (days)"), default=21,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("An open opportunity with no activity for this many days gives its owner "
                    "a task."))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("pipeline settings")
        verbose_name_plural = _("pipeline settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> PipelineSettings:
        return cls.objects.get_or_create(pk=1)[0]


__all__ = ["DEFAULT_STAGES", "LostReason", "Opportunity", "PipelineSettings", "Stage",
           "StageChange", "StageKind", "ensure_default_stages"]
