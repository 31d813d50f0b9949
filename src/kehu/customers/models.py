"""The customer data card (客户资料卡) and what hangs off it: contacts, lifecycle state and
its history, owners and their history, products and transactions."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kehu.core.models import TimeStampedModel, VersionedModel
from kehu.customers.validators import not_in_future, not_negative, plausible_birth_year


class CustomerKind(models.TextChoices):
    ORGANISATION = "organisation", _("Organisation")
    PERSON = "person", _("Person")


class CustomerNature(models.TextChoices):
    GOVERNMENT = "government", _("Government agency")
    SPECIAL = "special", _("Special company")
    ORDINARY = "ordinary", _("Ordinary company")
    INDIVIDUAL = "individual", _("Individual")
    DEALER = "dealer", _("Dealer/partner")


class ServiceGroup(models.TextChoices):
    LARGE = "large", _("Large enterprise")
    SME = "sme", _("SME")
    HOUSEHOLD = "household", _("Household")


class CompanySize(models.TextChoices):
    MICRO = "micro", _("Micro (under 10 staff)")
    SMALL = "small", _("Small (10–99 staff)")
    MEDIUM = "medium", _("Medium (100–999 staff)")
    LARGE = "large", _("Large (1,000+ staff)")


class LifecycleState(models.TextChoices):
    POTENTIAL = "potential", _("Potential")
    TARGET = "target", _("Target")
    FIRST_PURCHASE = "first", _("First purchase")
    REPEAT_PURCHASE = "repeat", _("Repeat purchase")
    LOYAL = "loyal", _("Loyal")
    CHURNED = "churned", _("Churned")
    NON_CUSTOMER = "non_customer", _("Non-customer")


class CreditRating(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent")
    GOOD = "good", _("Good")
    FAIR = "fair", _("Fair")
    POOR = "poor", _("Poor")
    BLOCKED = "blocked", _("Blocked")


class Customer(VersionedModel):
    # Base data (基础资料)
    kind = models.CharField(_("kind"), max_length=20, choices=CustomerKind.choices,
                            default=CustomerKind.ORGANISATION)
    name = models.CharField(_("name"), max_length=200)
    # The customer's id in another system (ERP, shop). Unique among the customers a user
    # may see, not across the firm: refusing an id held in another team's scope would tell
    # the user which ids other teams hold. Two customers with one id are a duplicate pair
    # for someone who sees both (kehu.dataio.quality.dedup).
    external_id = models.CharField(_("external id"), max_length=64, null=True, blank=True,
                                   db_index=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    province = models.CharField(_("province"), max_length=50, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    legal_representative = models.CharField(_("legal representative"), max_length=100, blank=True)
    founded_on = models.DateField(_("founded on"), null=True, blank=True,
                                  validators=[not_in_future])
    trading_since = models.DateField(_("trading with us since"), null=True, blank=True,
                                     validators=[not_in_future])
    organisation_form = models.CharField(_("organisation form"), max_length=100, blank=True)
    registered_capital = models.DecimalField(_("registered capital"), max_digits=16,
                                             decimal_places=2, null=True, blank=True,
                                             validators=[not_negative])
    # Characteristics (客户特征)
    nature = models.CharField(_("customer nature"), max_length=20, choices=CustomerNature.choices,
                              default=CustomerNature.ORDINARY)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    size = models.CharField(_("company size"), max_length=20, choices=CompanySize.choices,
                            blank=True)
    service_group = models.CharField(_("service group"), max_length=20,
                                     choices=ServiceGroup.choices, default=ServiceGroup.SME)
    service_area = models.CharField(_("service area"), max_length=200, blank=True)
    sales_capacity = models.CharField(_("sales capacity"), max_length=200, blank=True)
    development_potential = models.TextField(_("development potential"), blank=True)
    business_philosophy = models.TextField(_("business philosophy and direction"), blank=True)
    business_style = models.CharField(_("business style"), max_length=200, blank=True)
    # Business status (业务状况)
    sales_performance = models.TextField(_("sales performance"), blank=True)
    staff_quality = models.CharField(_("staff quality"), max_length=200, blank=True)
    competitor_relations = models.TextField(_("relations with competitors"), blank=True)
    cooperation_attitude = models.TextField(_("attitude to cooperation with us"), blank=True)
    # Transaction status (交易现状)
    current_activity = models.TextField(_("current activity"), blank=True)
    problems = models.TextField(_("problems"), blank=True)
    strengths = models.TextField(_("strengths"), blank=True)
    reputation = models.CharField(_("reputation"), max_length=200, blank=True)
    trade_terms = models.CharField(_("trade terms"), max_length=200, blank=True)
    # Sensitive tier (分级管理)
    credit_rating = models.CharField(_("credit status"), max_length=20,
                                     choices=CreditRating.choices, blank=True)
    credit_limit = models.DecimalField(_("credit limit"), max_digits=14, decimal_places=2,
                                       null=True, blank=True, validators=[not_negative])
    # Days from an invoice to its due date, the default for the customer's receivables. The
    # receivables themselves, their payments, the overdue amounts and the credit incidents
    # are kehu.sales.credit's.
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), null=True, blank=True,
        validators=[MaxValueValidator(365, message=_("At most 365 days."))])
    legal_rep_personality = models.TextField(_("legal representative's personality"), blank=True)
    legal_rep_interests = models.TextField(_("legal representative's interests"), blank=True)
    legal_rep_birth_year = models.PositiveSmallIntegerField(
        _("legal representative's year of birth"), null=True, blank=True,
        validators=[plausible_birth_year])
    # Management
    # State, owner and team are indexed only as the first column of the composite indexes
    # in Meta, which serve every lookup a single-column index would: the value refresh
    # rewrites the state of up to every customer, and each such update writes an entry in
    # every index of the table (and of its history).
    lifecycle_state = models.CharField(_("lifecycle state"), max_length=20,
                                       choices=LifecycleState.choices,
                                       default=LifecycleState.POTENTIAL)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"),
                              on_delete=models.PROTECT, related_name="owned_customers",
                              db_index=False)
    # Denormalised from the owner so that team scoping is one indexed comparison at 1M rows.
    team = models.ForeignKey("accounts.Team", verbose_name=_("team"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="customers",
                             db_index=False)
    # Stale data (过期数据): when somebody last confirmed that the card's key facts are still
    # true. Never set by imports: a file says nothing about whether its data is current.
    confirmed_at = models.DateTimeField(_("data confirmed at"), null=True, blank=True,
                                        editable=False, db_index=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     editable=False, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("data confirmed by"))
    # Search keys: lower-case name, its pinyin and initials, phone digits, e-mail.
    # Indexed for substring search: an FTS5 trigram table on SQLite, pg_trgm on PostgreSQL.
    search_text = models.TextField(blank=True, editable=False)
    # What lists sort by: the name with Chinese in tone-less pinyin (customers.search.sort_key).
    # An empty default in the database keeps older writers (a migration's models) working.
    name_sort = models.CharField(max_length=300, blank=True, editable=False, db_default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("last changed by"))

    # The history is read by customer (its id) and time only: the indexes the card's own
    # fields have would be written with every history row (a first value refresh writes a
    # million) and never read.
    history = HistoricalRecords(
        excluded_fields=["search_text", "name_sort", "updated_at"],
        no_db_index=["external_id", "owner", "team", "confirmed_at", "confirmed_by",
                     "created_by", "updated_by"])

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["name", "id"]),
            # A sales user's or a team's list in name order, the page most often opened, and
            # a team's in order of change or creation.
            # Name order is pinyin order: lists sort by name_sort.
            models.Index(fields=["name_sort", "id"]),
            models.Index(fields=["owner", "name_sort", "id"]),
            models.Index(fields=["team", "name_sort", "id"]),
            models.Index(fields=["team", "updated_at", "id"]),
            models.Index(fields=["team", "created_at", "id"]),
            models.Index(fields=["lifecycle_state", "name_sort", "id"]),
            models.Index(fields=["lifecycle_state", "id"]),
            models.Index(fields=["created_at", "id"]),
            models.Index(fields=["updated_at", "id"]),
            models.Index(fields=["city", "id"]),
        ]

    def __str__(self) -> str:
        return self.name


# Fields a user edits on the card; management fields (owner, state, version …) have their
# own services so that each change is recorded with its meaning.
CUSTOMER_FIELDS = tuple(
    f.name for f in Customer._meta.concrete_fields
    if f.editable and f.name not in {
        "id", "owner", "team", "lifecycle_state", "version", "created_at", "updated_at",
        "created_by", "updated_by", "search_text", "name_sort",
    }
)

SENSITIVE_CUSTOMER_FIELDS = (
    "credit_rating", "credit_limit", "payment_terms_days",
    "legal_rep_personality", "legal_rep_interests", "legal_rep_birth_year",
)


class DecisionRole(models.TextChoices):
    """Who decides a purchase (seed 001, 决策模式): the approver signs it off (CEO, chairman),
    the decision makers choose (the HR VP, the head of purchasing), the evaluators supply the
    evaluation the decision rests on (决策支撑者: the using department's head, the HRD), and
    the influencers weigh on it from outside (government offices, interest groups). Whether
    a person favours us is their attitude, a separate field."""

    APPROVER = "approver", _("Approver")
    DECISION_MAKER = "decision_maker", _("Decision maker")
    EVALUATOR = "evaluator", _("Evaluator")
    INFLUENCER = "influencer", _("Influencer")


class Attitude(models.TextChoices):
    """A contact's attitude to us; empty: not known yet."""

    SUPPORTS = "supports", _("Supports us")
    NEUTRAL = "neutral", _("Neutral")
    OPPOSES = "opposes", _("Opposes us")


class ContactRelationship(models.TextChoices):
    """How well we know a contact; empty: not known yet."""

    NONE = "none", _("No relationship yet")
    ACQUAINTED = "acquainted", _("Acquainted")
    GOOD = "good", _("Good relationship")
    CLOSE = "close", _("Close relationship")


class Contact(VersionedModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts",
                                 verbose_name=_("customer"))
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    decision_role = models.CharField(_("role in the decision chain"), max_length=20,
                                     choices=DecisionRole.choices, blank=True)
    attitude = models.CharField(_("attitude to us"), max_length=10, choices=Attitude.choices,
                                blank=True)
    our_relationship = models.CharField(_("our relationship with them"), max_length=10,
                                        choices=ContactRelationship.choices, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    # Sensitive tier
    personal_interests = models.TextField(_("personal interests"), blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True,
                                validators=[not_in_future])

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "name", "id"]

    def __str__(self) -> str:
        return self.name


CONTACT_FIELDS = ("name", "title", "phone", "email", "decision_role", "attitude",
                  "our_relationship", "is_primary", "notes", "personal_interests", "birthday")
SENSITIVE_CONTACT_FIELDS = ("personal_interests", "birthday")


class TransitionSource(models.TextChoices):
    MANUAL = "manual", _("Set by hand")
    DERIVED = "derived", _("Derived from behaviour")
    IMPORT = "import", _("Imported")


class LifecycleTransition(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE,
                                 related_name="lifecycle_transitions", verbose_name=_("customer"))
    from_state = models.CharField(_("from"), max_length=20, choices=LifecycleState.choices,
                                  blank=True)
    to_state = models.CharField(_("to"), max_length=20, choices=LifecycleState.choices)
    at = models.DateTimeField(_("when"), db_index=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                           on_delete=models.SET_NULL, related_name="+", verbose_name=_("by"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=TransitionSource.choices,
                              default=TransitionSource.MANUAL)

    class Meta:
        verbose_name = _("lifecycle transition")
        verbose_name_plural = _("lifecycle transitions")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_state or '—'} → {self.to_state}"


class OwnerAssignment(models.Model):
    """One period during which a user was responsible for a customer (专人负责)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE,
                                 related_name="owner_assignments", verbose_name=_("customer"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("owner"))
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("until"), null=True, blank=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("assigned by"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("owner assignment")
        verbose_name_plural = _("owner assignments")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.owner_id} {self.started_at:%Y-%m-%d}"


class Product(TimeStampedModel):
    code = models.CharField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2,
                                     default=Decimal("0"))
    unit_cost = models.DecimalField(_("unit cost"), max_digits=14, decimal_places=2,
                                    default=Decimal("0"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class TransactionKind(models.TextChoices):
    ORDER = "order", _("Order")
    INVOICE = "invoice", _("Invoice")
    RETURN = "return", _("Return")


class Transaction(TimeStampedModel):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="transactions",
                                 verbose_name=_("customer"))
    number = models.CharField(_("number"), max_length=50, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=TransactionKind.choices,
                            default=TransactionKind.ORDER)
    date = models.DateField(_("date"), db_index=True)
    # Totals; with line items they are the sums of the lines. A return is negative.
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    cost = models.DecimalField(_("cost of goods"), max_digits=14, decimal_places=2,
                               default=Decimal("0"))
    notes = models.CharField(_("notes"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))

    class Meta:
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["customer", "date"]),
            # Finds an order number already recorded (an import run twice) without a scan.
            models.Index(fields=["number"], name="customers_txn_number",
                         condition=~models.Q(number="")),
        ]

    @property
    def gross_profit(self) -> Decimal:
        return self.amount - self.cost

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"


class TransactionLine(models.Model):
    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="lines",
                                    verbose_name=_("transaction"))
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT,
                                verbose_name=_("product"))
    description = models.CharField(_("description"), max_length=200, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)
    unit_cost = models.DecimalField(_("unit cost"), max_digits=14, decimal_places=2,
                                    default=Decimal("0"))

    class Meta:
        verbose_name = _("line item")
        verbose_name_plural = _("line items")

    def __str__(self) -> str:
        return self.description or str(self.product_id or "")

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))

    @property
    def cost(self) -> Decimal:
        return (self.quantity * self.unit_cost).quantize(Decimal("0.01"))


class StateLock(models.Model):
    """A lifecycle state set by hand and locked: the value refresh keeps it (and says so in
    the lifecycle history) until it is unlocked or its end date has passed. Locks are kept
    after they end, so that who locked what, why and until when stays on record."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="state_locks",
                                 verbose_name=_("customer"))
    reason = models.CharField(_("reason for the lock"), max_length=300)
    until = models.DateField(_("locked until"), null=True, blank=True)
    locked_at = models.DateTimeField(_("locked at"))
    locked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+",
                                  verbose_name=_("locked by"))
    unlocked_at = models.DateTimeField(_("unlocked at"), null=True, blank=True)
    unlocked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("unlocked by"))

    class Meta:
        verbose_name = _("lifecycle state lock")
        verbose_name_plural = _("lifecycle state locks")
        ordering = ["-locked_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["customer"],
                                               condition=models.Q(unlocked_at__isnull=True),
                                               name="customers_one_open_state_lock")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.reason}"

    def active_on(self, day) -> bool:
        return self.unlocked_at is None and (self.until is None or self.until >= day)
