"""Leads (线索): a person and an organisation that might become a customer, where they came
from, and the MAN judgements (seed 003) that say what to do about them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kehu.core.models import VersionedModel
from kehu.customers.models import CompanySize
from kehu.sales.leads import man

__all__ = ["CHECKLIST", "Factor", "Lead", "LeadAction", "LeadContact", "LeadSource", "LeadStatus",
           "ManJudgement"]


class LeadSource(models.TextChoices):
    """Where leads come from (seed 003: exhibitions, referrals, public records, business
    intermediaries …)."""

    EXHIBITION = "exhibition", _("Exhibition")
    REFERRAL = "referral", _("Referral")
    WEBSITE = "website", _("Website")
    INTERMEDIARY = "intermediary", _("Business intermediary")
    PUBLIC_RECORDS = "public_records", _("Public records")
    MEDIA = "media", _("Media")
    COLD_CALL = "cold_call", _("Cold call")
    OTHER = "other", _("Other")


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    QUALIFIED = "qualified", _("Qualified")
    CONVERTED = "converted", _("Converted")
    DISQUALIFIED = "disqualified", _("Disqualified")


class Factor(models.TextChoices):
    MONEY = "money", _("Money")
    AUTHORITY = "authority", _("Authority")
    NEED = "need", _("Need")


class LeadAction(models.TextChoices):
    """The prescribed action of each MAN combination, by its stable code."""

    PURSUE = man.PURSUE, man.ACTIONS[man.PURSUE].label
    CREATE_NEED = man.CREATE_NEED, man.ACTIONS[man.CREATE_NEED].label
    FIND_AUTHORITY = man.FIND_AUTHORITY, man.ACTIONS[man.FIND_AUTHORITY].label
    CHECK_CREDIT = man.CHECK_CREDIT, man.ACTIONS[man.CHECK_CREDIT].label
    NURTURE = man.NURTURE, man.ACTIONS[man.NURTURE].label
    STOP = man.STOP, man.ACTIONS[man.STOP].label
    JUDGE = man.JUDGE, man.ACTIONS[man.JUDGE].label


# The selection checklist of seed 001 §3 (a good customer), asked on qualification.
CHECKLIST = (
    ("low_price_sensitivity", _("Low price sensitivity")),
    ("pays_on_time", _("Pays on time")),
    ("good_reputation", _("Good reputation")),
    ("low_cost_to_serve", _("Low cost to serve")),
    ("fits_our_size", _("Fits our size (门当户对)")),
)


def _yes_no(label):
    return models.BooleanField(label, null=True, blank=True)


class Lead(VersionedModel):
    # The organisation (or the person, for a private buyer)
    name = models.CharField(_("name"), max_length=200)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    province = models.CharField(_("region"), max_length=50, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    size = models.CharField(_("company size"), max_length=20, choices=CompanySize.choices,
                            blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    # The person we deal with
    contact_name = models.CharField(_("contact person"), max_length=100, blank=True)
    contact_title = models.CharField(_("job title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    # Where it came from
    source = models.CharField(_("source"), max_length=20, choices=LeadSource.choices,
                              db_index=True)
    source_detail = models.CharField(_("source details"), max_length=200, blank=True,
                                     help_text=_("Which exhibition, site, intermediary or "
                                                 "register."))
    referrer = models.ForeignKey("customers.Customer", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="referred_leads",
                                 verbose_name=_("referred by"))
    notes = models.TextField(_("notes"), blank=True)
    # The MAN judgements (None: not judged yet); their history is in ManJudgement.
    money = _yes_no(_("money (purchasing power)"))
    authority = _yes_no(_("authority (decision power)"))
    need = _yes_no(_("need"))
    money_note = models.CharField(_("why (money)"), max_length=300, blank=True)
    authority_note = models.CharField(_("why (authority)"), max_length=300, blank=True)
    need_note = models.CharField(_("why (need)"), max_length=300, blank=True)
    action = models.CharField(_("prescribed action"), max_length=20,
                              choices=LeadAction.choices, default=LeadAction.JUDGE,
                              db_index=True)
    # The selection checklist (seed 001 §3); None: not known.
    low_price_sensitivity = _yes_no(_("Low price sensitivity"))
    pays_on_time = _yes_no(_("Pays on time"))
    good_reputation = _yes_no(_("Good reputation"))
    low_cost_to_serve = _yes_no(_("Low cost to serve"))
    fits_our_size = _yes_no(_("Fits our size (门当户对)"))
    score = models.PositiveSmallIntegerField(_("lead score"), default=0)
    # Where it stands
    status = models.CharField(_("status"), max_length=20, choices=LeadStatus.choices,
                              default=LeadStatus.NEW, db_index=True)
    qualified_at = models.DateTimeField(_("qualified at"), null=True, blank=True)
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True)
    customer = models.OneToOneField("customers.Customer", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="from_lead",
                                    verbose_name=_("customer"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="owned_leads", verbose_name=_("owner"))
    # Denormalised from the owner, like a customer's, so that team scoping is one comparison.
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="leads", verbose_name=_("team"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "action", "id"]),
                   models.Index(fields=["team", "action", "id"]),
                   models.Index(fields=["created_at", "id"])]

    def __str__(self) -> str:
        return self.name

    @property
    def man(self) -> str:
        return man.man_code(self.money, self.authority, self.need)

    @property
    def action_detail(self) -> str:
        return str(man.ACTIONS[self.action].detail)


class LeadContact(models.Model):
    """Another person at the lead's organisation; every one becomes a contact of the
    customer on conversion."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="contacts",
                             verbose_name=_("lead"))
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)

    class Meta:
        verbose_name = _("lead contact")
        verbose_name_plural = _("lead contacts")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class ManJudgement(models.Model):
    """One judgement of money, authority or need: what was decided, why, by whom, when.
    Every judgement is kept; the lead carries the latest of each."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="judgements",
                             verbose_name=_("lead"))
    factor = models.CharField(_("judgement"), max_length=10, choices=Factor.choices)
    value = models.BooleanField(_("yes"), null=True)
    note = models.CharField(_("why"), max_length=300, blank=True)
    judged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("judged by"))
    judged_at = models.DateTimeField(_("judged at"), db_index=True)

    class Meta:
        verbose_name = _("MAN judgement")
        verbose_name_plural = _("MAN judgements")
        ordering = ["-judged_at", "-id"]

    def __str__(self) -> str:
        return f"{self.factor}={self.value}"
