"""Customer value management: the settings of the value refresh, activity unit costs,
referrals, and what each refresh computed — scores per customer, their history, customer
equity and the Markov migration counts."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import OneRowSettings, TimeStampedModel


class ValueSegment(models.TextChoices):
    """Current value × potential value (客户价值细分)."""

    INVEST = "invest", _("High current, high potential: invest and retain")
    DEVELOP = "develop", _("Low current, high potential: develop")
    MAINTAIN = "maintain", _("High current, low potential: maintain efficiently")
    MINIMISE = "minimise", _("Low current, low potential: minimise cost")


# For charts, where the full treatment does not fit.
SEGMENT_SHORT = {"invest": _("Invest and retain"), "develop": _("Develop"),
                 "maintain": _("Maintain"), "minimise": _("Minimise cost")}


class Quadrant(models.TextChoices):
    """Volume × loyalty (规模 × 忠诚度象限)."""

    PROTECT = "protect", _("Large and loyal: protect")
    NURTURE = "nurture", _("Small and loyal: nurture")
    CONTROL = "control", _("Large and disloyal: control tightly")
    PHASE_OUT = "phase_out", _("Small and disloyal: phase out")


def _share(verbose: str, default: str):
    return models.DecimalField(
        verbose, max_digits=4, decimal_places=3, default=Decimal(default),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("0.99"))])


class ValueSettings(OneRowSettings):
    """The firm's choices for the value refresh; one row (pk=1), edited by admins."""

    # CLV is the profit of the whole remaining relationship: the purchase model lets it end
    # by itself (P(alive) falls), and the horizon only bounds the sum. The next twelve
    # months' part is kept beside it.
    horizon_months = models.PositiveSmallIntegerField(
        _("CLV horizon (months)"), default=120,
        validators=[MinValueValidator(12), MaxValueValidator(600)],
        help_text=_("How far ahead CLV looks: long enough to cover the remaining relationship "
                    "(120 months = 10 years). The next 12 months are shown beside it."))
    monthly_discount = models.DecimalField(
        _("monthly discount rate"), max_digits=5, decimal_places=4, default=Decimal("0.0100"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("0.5"))])
    # "auto": each refresh compares the three on a holdout and scores with the best
    # (kehu.value.selection); any other value pins that model.
    model = models.CharField(
        _("purchase model"), max_length=12, default="auto",
        help_text=_("Each refresh fits BG/NBD, MBG/NBD and Pareto/NBD on the earlier part of "
                    "the history, checks their forecasts against the rest and scores with "
                    "the best. Pick a model here to use it whatever the check says."),
        choices=[("auto", _("Chosen by its holdout forecast (recommended)")),
                 ("bgnbd", _("BG/NBD (fast)")),
                 ("mbgnbd", _("MBG/NBD (fast; P(alive) also falls for one-time buyers)")),
                 ("pareto-nbd", _("Pareto/NBD (P(alive) also falls for one-time buyers)"))])
    # Lifecycle rules
    churn_p_alive = _share(_("churned when P(alive) falls below"), "0.300")
    churn_inactive_days = models.PositiveIntegerField(
        _("without a P(alive): churned after this many days without a purchase (0: never)"),
        default=365)
    loyal_min_index = models.PositiveSmallIntegerField(
        _("loyal: loyalty index at least"), default=65,
        validators=[MinValueValidator(1), MaxValueValidator(100)])
    loyal_min_purchase_days = models.PositiveSmallIntegerField(
        _("loyal: at least this many purchase days"), default=4)
    loyal_min_tenure_days = models.PositiveIntegerField(
        _("loyal: customer for at least this many days"), default=180)
    # Segments
    high_current_share = _share(_("high current value: top share of customers"), "0.300")
    high_potential_share = _share(_("high potential value: top share of customers"), "0.300")
    large_volume_share = _share(_("large: top share of customers by revenue"), "0.300")
    quadrant_loyal_index = models.PositiveSmallIntegerField(
        _("loyal (quadrant): loyalty index at least"), default=50,
        validators=[MinValueValidator(1), MaxValueValidator(100)])
    # Warnings
    stale_after_days = models.PositiveSmallIntegerField(
        _("scores are stale after (days)"), default=31)

    class Meta:
        verbose_name = _("value settings")
        verbose_name_plural = _("value settings")



class ActivityCost(models.Model):
    """Activity-based costing (作业成本法): what one activity of a kind costs the firm."""

    kind = models.CharField(_("activity kind"), max_length=10, unique=True)
    unit_cost = models.DecimalField(_("unit cost"), max_digits=10, decimal_places=2,
                                    default=Decimal("0"),
                                    validators=[MinValueValidator(Decimal("0"))])
    # On-site service builds the relationship (seed 004: "an investment, not consumption"):
    # such kinds are shown as relationship investment and not deducted from realised value.
    # db_default: rows written by code that does not know the field (older migrations'
    # seeds) are costs to serve.
    investment = models.BooleanField(
        _("relationship investment"), default=False, db_default=False,
        help_text=_("Counted as an investment in the relationship, not as a cost to serve: "
                    "realised value and CLV do not deduct it."))

    class Meta:
        verbose_name = _("activity cost")
        verbose_name_plural = _("activity costs")
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.unit_cost}"


class Referral(TimeStampedModel):
    """Who brought whom (推荐): the basis of influence value."""

    referrer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="referrals_made", verbose_name=_("referred by"))
    referred = models.OneToOneField("customers.Customer", on_delete=models.CASCADE,
                                    related_name="referral", verbose_name=_("new customer"))
    referred_on = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("recorded by"))

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-referred_on", "-id"]
        constraints = [models.CheckConstraint(condition=~models.Q(referrer=models.F("referred")),
                                              name="analytics_referral_not_self")]

    def __str__(self) -> str:
        return f"{self.referrer_id} → {self.referred_id}"


class LoyaltyStatement(models.Model):
    """What the customer said about their loyalty (the attitude side, seed 001 §4): whether
    they intend to buy again and would recommend us, each 0-10, and the share of their
    purchases in our line they buy from us, where known. Each statement is kept; the latest
    counts."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="loyalty_statements",
                                 verbose_name=_("customer"))
    stated_on = models.DateField(_("stated on"))
    buy_again = models.PositiveSmallIntegerField(
        _("intends to buy again (0–10)"), null=True, blank=True,
        validators=[MaxValueValidator(10)])
    recommend = models.PositiveSmallIntegerField(
        _("would recommend us (0–10)"), null=True, blank=True,
        validators=[MaxValueValidator(10)])
    wallet_share = models.PositiveSmallIntegerField(
        _("share of wallet (%)"), null=True, blank=True, validators=[MaxValueValidator(100)],
        help_text=_("Of what the customer buys in our line, the share they buy from us."))
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("recorded by"))

    class Meta:
        verbose_name = _("loyalty statement")
        verbose_name_plural = _("loyalty statements")
        ordering = ["-stated_on", "-id"]
        indexes = [models.Index(fields=["customer", "stated_on", "id"])]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.stated_on}"


class SegmentAction(models.Model):
    """The treatment a segment prescribes, turned into a task for the owner when a customer
    moves into the segment."""

    segment = models.CharField(_("segment"), max_length=20, unique=True)
    create_task = models.BooleanField(_("create a task for the owner"), default=True)
    # Empty: the prescribed treatment, in the language of whoever runs the refresh.
    subject = models.CharField(_("task"), max_length=200, blank=True)
    due_in_days = models.PositiveSmallIntegerField(_("due in (days)"), default=14)

    class Meta:
        verbose_name = _("segment action")
        verbose_name_plural = _("segment actions")
        ordering = ["segment"]

    def __str__(self) -> str:
        return self.segment

    @property
    def task_subject(self) -> str:
        default = PRESCRIBED.get(self.segment, ("", False))[0]
        return self.subject or str(default)


# The treatment each segment prescribes (DOMAIN.md §4–5), and whether it becomes a task by
# default: the actions that need a person; "maintain efficiently" and "phase out" do not.
PRESCRIBED = {
    "invest": (_("Invest and retain: plan an account review and a retention offer"), True),
    "develop": (_("Develop: propose more products or a larger order"), True),
    "maintain": (_("Maintain efficiently: serve through low-cost channels"), False),
    "minimise": (_("Minimise cost: no proactive visits"), False),
    "protect": (_("Protect: call the customer and confirm their satisfaction"), True),
    "nurture": (_("Nurture: offer training or a service package to grow the account"), False),
    "control": (_("Control tightly: review credit limit, pricing and territory"), True),
    "phase_out": (_("Phase out: stop discounts and proactive service"), False),
    "at_risk": (_("At risk: a valuable customer is slipping away — call them this week"), True),
}


class RefreshStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ValueRefresh(models.Model):
    """One run of the value refresh: the fitted models and what they were fitted on."""

    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    as_of = models.DateField(_("as of"))
    status = models.CharField(_("status"), max_length=10, choices=RefreshStatus.choices,
                              default=RefreshStatus.RUNNING)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("started by"))
    customers = models.PositiveIntegerField(_("customers scored"), default=0)
    buyers = models.PositiveIntegerField(_("customers with purchases"), default=0)
    repeat_buyers = models.PositiveIntegerField(_("repeat buyers"), default=0)
    horizon_months = models.PositiveSmallIntegerField(_("CLV horizon (months)"), default=120)
    # What its CLV measured: refreshes before CLV became profit measured expected spend, and
    # a customer's CLV trend leaves them out.
    clv_basis = models.CharField(_("CLV measures"), max_length=8, default="profit",
                                 choices=[("profit", _("expected profit")),
                                          ("revenue", _("expected spend"))])
    monthly_discount = models.DecimalField(_("monthly discount rate"), max_digits=5,
                                           decimal_places=4, default=Decimal("0.01"))
    # {"bgnbd": {"params": {...}, "loglik": ..}, "gamma_gamma": {...}} as kehu.value gives it
    fit = models.JSONField(_("fitted models"), default=dict)
    # [{"code": "...", "message": "..."}]: a poor or impossible fit, said plainly
    warnings = models.JSONField(_("warnings"), default=list)
    # {"states": [...], "matrix": [[...]], "forecast": [[...]], "equity": [...]}
    migration = models.JSONField(_("Markov migration"), default=dict)
    # The purchase models compared on a holdout (kehu.value.selection.Selection.to_dict)
    model_selection = models.JSONField(_("purchase model comparison"), default=dict)
    error = models.TextField(_("error"), blank=True)
    seconds = models.FloatField(_("duration (s)"), null=True, blank=True)

    class Meta:
        verbose_name = _("value refresh")
        verbose_name_plural = _("value refreshes")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.as_of} ({self.get_status_display()})"


class CustomerValue(models.Model):
    """A customer's value as of the latest refresh (one row per customer)."""

    # No foreign-key constraints in the database, for the refresh's sake: it writes a row
    # per customer, whose constraint PostgreSQL would check row by row at commit (a million
    # customers: two million checks, about 7 s, here and again for the snapshots). The rows
    # hold anyway: the refresh writes them only for customers it holds locked (FOR KEY
    # SHARE, kehu.analytics.data.present_customers) in the same transaction, and deleting a
    # customer or a refresh deletes its rows (Django's CASCADE and PROTECT).
    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE,
                                    primary_key=True, related_name="value",
                                    verbose_name=_("customer"), db_constraint=False)
    # Not indexed: every row names the latest refresh, and nothing looks rows up by it.
    refresh = models.ForeignKey(ValueRefresh, on_delete=models.PROTECT, related_name="+",
                                db_constraint=False, db_index=False)
    # Realised value (既成价值), lifetime and in the last twelve months
    revenue = models.DecimalField(_("revenue"), max_digits=16, decimal_places=2, default=0)
    gross_profit = models.DecimalField(_("gross profit"), max_digits=16, decimal_places=2,
                                       default=0)
    cost_to_serve = models.DecimalField(_("cost to serve"), max_digits=16, decimal_places=2,
                                        default=0)
    net_contribution = models.DecimalField(_("net contribution"), max_digits=16,
                                           decimal_places=2, default=0)
    relationship_investment = models.DecimalField(
        _("relationship investment"), max_digits=16, decimal_places=2, default=0)
    revenue_12m = models.DecimalField(_("revenue, last 12 months"), max_digits=16,
                                      decimal_places=2, default=0)
    gross_profit_12m = models.DecimalField(_("gross profit, last 12 months"), max_digits=16,
                                           decimal_places=2, default=0)
    cost_to_serve_12m = models.DecimalField(_("cost to serve, last 12 months"), max_digits=16,
                                            decimal_places=2, default=0)
    relationship_investment_12m = models.DecimalField(
        _("relationship investment, last 12 months"), max_digits=16, decimal_places=2,
        default=0)
    # Current value: what the segments, the whale curve and the value rank all use.
    net_contribution_12m = models.DecimalField(_("net contribution, last 12 months"),
                                               max_digits=16, decimal_places=2, default=0)
    # Behaviour, in days
    purchase_days = models.PositiveIntegerField(_("purchase days"), default=0)
    first_purchase = models.DateField(_("first purchase"), null=True, blank=True)
    last_purchase = models.DateField(_("last purchase"), null=True, blank=True)
    # Potential value (潜在价值), from the fitted models
    p_alive = models.FloatField(_("P(alive)"), null=True, blank=True)
    expected_purchases = models.FloatField(_("expected purchases"), null=True, blank=True)
    # CLV: discounted expected profit over the remaining relationship (the horizon of the
    # refresh), and the part of it in the next twelve months.
    clv = models.DecimalField(_("CLV"), max_digits=16, decimal_places=2, null=True, blank=True)
    clv_12m = models.DecimalField(_("CLV, next 12 months"), max_digits=16, decimal_places=2,
                                  null=True, blank=True)
    margin = models.FloatField(_("gross margin used for CLV"), null=True, blank=True)
    potential_value = models.DecimalField(_("potential value"), max_digits=16,
                                          decimal_places=2, null=True, blank=True)
    influence_value = models.DecimalField(_("influence value"), max_digits=16,
                                          decimal_places=2, default=0)
    # Standing
    rfm_r = models.PositiveSmallIntegerField(_("R"), null=True, blank=True)
    rfm_f = models.PositiveSmallIntegerField(_("F"), null=True, blank=True)
    rfm_m = models.PositiveSmallIntegerField(_("M"), null=True, blank=True)
    value_rank = models.PositiveIntegerField(_("value rank"), null=True, blank=True)
    value_percentile = models.FloatField(_("value percentile"), null=True, blank=True)
    segment = models.CharField(_("value segment"), max_length=10, choices=ValueSegment.choices,
                               blank=True)
    quadrant = models.CharField(_("volume × loyalty"), max_length=10, choices=Quadrant.choices,
                                blank=True)
    lookalike = models.FloatField(_("look-alike score"), null=True, blank=True)
    at_risk = models.BooleanField(_("at risk"), default=False)
    # Loyalty (忠诚度), 0-100: behaviour and attitude, and each of their parts (null: unknown)
    loyalty_index = models.FloatField(_("loyalty index"), null=True, blank=True)
    loyalty_behaviour = models.FloatField(_("loyal behaviour"), null=True, blank=True)
    loyalty_attitude = models.FloatField(_("loyal attitude"), null=True, blank=True)
    loyalty_repeat = models.FloatField(_("repeat rate"), null=True, blank=True)
    loyalty_regularity = models.FloatField(_("regularity"), null=True, blank=True)
    loyalty_tenure = models.FloatField(_("tenure"), null=True, blank=True)
    loyalty_wallet = models.FloatField(_("share of wallet"), null=True, blank=True)
    loyalty_referrals = models.FloatField(_("referrals made"), null=True, blank=True)
    # Days since the last purchase over the customer's usual days between purchases
    overdue = models.FloatField(_("overdue against their rhythm"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer value")
        verbose_name_plural = _("customer values")
        # Few indexes: the refresh rewrites every row. Lists are found through the customer,
        # the dashboard's tails by current value and rank, its new customers (the referral
        # share) by first purchase, the few at risk by a partial index (only they enter it).
        indexes = [models.Index(fields=["net_contribution_12m"]),
                   models.Index(fields=["value_rank"]),
                   models.Index(fields=["first_purchase"]),
                   models.Index(fields=["customer"], condition=models.Q(at_risk=True),
                                name="analytics_value_at_risk")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.clv}"

    @property
    def rfm(self) -> str:
        return "".join(str(x) for x in (self.rfm_r, self.rfm_f, self.rfm_m)) if self.rfm_r else ""


class CustomerValueSnapshot(models.Model):
    """What a refresh said about a customer, kept so a card can show how value moved."""

    # No foreign-key constraints in the database (see CustomerValue), and no index of the
    # customer alone: the index of (customer, as_of) finds a customer's snapshots.
    refresh = models.ForeignKey(ValueRefresh, on_delete=models.CASCADE, related_name="+",
                                db_constraint=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="value_snapshots", db_constraint=False,
                                 db_index=False)
    as_of = models.DateField()
    clv = models.DecimalField(max_digits=16, decimal_places=2, null=True)
    p_alive = models.FloatField(null=True)
    net_contribution = models.DecimalField(max_digits=16, decimal_places=2)
    segment = models.CharField(max_length=10, blank=True)
    quadrant = models.CharField(max_length=10, blank=True)
    lifecycle_state = models.CharField(max_length=20)

    class Meta:
        indexes = [models.Index(fields=["customer", "as_of"])]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.as_of}"


class EquitySnapshot(models.Model):
    """Customer equity (客户资产 = Σ CLV) of one refresh, by owner and segment; summed over
    what a user may see, it gives their equity trend and its breakdowns."""

    refresh = models.ForeignKey(ValueRefresh, on_delete=models.CASCADE,
                                related_name="equity_rows")
    as_of = models.DateField(db_index=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                              related_name="+")
    team = models.ForeignKey("accounts.Team", null=True, on_delete=models.SET_NULL,
                             related_name="+")
    segment = models.CharField(max_length=10, blank=True)
    customers = models.PositiveIntegerField(default=0)
    equity = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    net_contribution = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    # Markov counts of this owner's customers in this segment: moves[i][j] between states
    moves = models.JSONField(default=list)
    # customers in each lifecycle state now, and their summed CLV per state
    states = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["refresh", "team", "owner"])]

    def __str__(self) -> str:
        return f"{self.as_of} {self.owner_id} {self.segment}: {self.equity}"


class ProductAffinity(models.Model):
    """A product its buyers also bought (one of each product's closest neighbours), rebuilt
    from the order lines by every value refresh (analytics.affinity, kehu.value.cross_sell):
    the basis of a customer's cross-sell and up-sell candidates on the card."""

    product = models.ForeignKey("customers.Product", on_delete=models.CASCADE,
                                related_name="+", verbose_name=_("product"))
    related = models.ForeignKey("customers.Product", on_delete=models.CASCADE,
                                related_name="+", verbose_name=_("related product"))
    rank = models.PositiveSmallIntegerField(_("rank"))
    co_buyers = models.PositiveIntegerField(_("customers who bought both"))
    buyers = models.PositiveIntegerField(_("customers who bought the product"))
    similarity = models.FloatField(_("similarity"))
    confidence = models.FloatField(_("share of the product's buyers who bought the related"))
    lift = models.FloatField(_("lift"))
    as_of = models.DateField(_("purchases up to"))

    class Meta:
        verbose_name = _("product affinity")
        verbose_name_plural = _("product affinities")
        ordering = ["product", "rank"]
        constraints = [models.UniqueConstraint(fields=["product", "related"],
                                               name="analytics_affinity_pair")]

    def __str__(self) -> str:
        return f"{self.product_id} → {self.related_id}"


class DashboardSnapshot(models.Model):
    """The value dashboard's aggregates over one scope (the firm, a team, a sales user's own
    customers), computed at the end of a refresh (kehu.analytics.dashboard) so that the page
    reads one row instead of adding up the base. Sums and counts only, with the ids of the
    value matrix's sample: names and lists are read live, within the reader's scope."""

    refresh = models.ForeignKey(ValueRefresh, on_delete=models.CASCADE,
                                related_name="dashboard_snapshots")
    scope = models.CharField(max_length=8)  # "firm", "team" or "owner"
    scope_id = models.PositiveIntegerField(default=0)  # the team's or the owner's id; 0: firm
    figures = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["refresh", "scope", "scope_id"],
                                               name="analytics_dashboard_snapshot_scope")]

    def __str__(self) -> str:
        return f"{self.refresh_id} {self.scope} {self.scope_id}"
