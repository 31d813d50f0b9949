"""Offer settings, coupon tiers, offer lists with their items, coupons and every send of a
list. A list is built once and kept as built (its prices are those of its day); a new list
replaces it on the card every few weeks."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from kehu.analytics.models import ValueSegment
from kehu.core.models import OneRowSettings, TimeStampedModel

__all__ = ["Coupon", "CouponTier", "ItemKind", "OfferItem", "OfferList", "OfferSend",
           "OfferSettings", "SendChannel", "SendStatus"]


class OfferSettings(OneRowSettings):
    """The firm's choices for one-to-one offers; one row (pk=1), edited by admins."""

    spend_threshold = models.DecimalField(
        _("spend at least"), max_digits=14, decimal_places=2, default=Decimal("100.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Customers whose net purchases in the spend period reach this amount "
                    "get an offer list."))
    spend_weeks = models.PositiveSmallIntegerField(
        _("spend period (weeks)"), default=12,
        validators=[MinValueValidator(1), MaxValueValidator(104)])
    every_weeks = models.PositiveSmallIntegerField(
        _("a new list every (weeks)"), default=2,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text=_("Also how far ahead a list looks for products due again."))
    due_items = models.PositiveSmallIntegerField(
        _("products due again, at most"), default=6,
        validators=[MinValueValidator(0), MaxValueValidator(30)])
    suggested_items = models.PositiveSmallIntegerField(
        _("products bought by similar customers, at most"), default=4,
        validators=[MinValueValidator(0), MaxValueValidator(30)])
    min_purchase_days = models.PositiveSmallIntegerField(
        _("a rhythm needs this many purchase days"), default=3,
        validators=[MinValueValidator(2), MaxValueValidator(20)])

    class Meta:
        verbose_name = _("offer settings")
        verbose_name_plural = _("offer settings")



class CouponTier(models.Model):
    """A coupon by loyalty (seed 001: the most loyal get the larger coupons): a customer
    gets the coupon of the first tier, highest loyalty first, whose loyalty index and value
    segments they meet."""

    name_en = models.CharField(_("name (English)"), max_length=60)
    name_zh = models.CharField(_("name (Chinese)"), max_length=60)
    min_loyalty = models.PositiveSmallIntegerField(
        _("loyalty index at least"), validators=[MaxValueValidator(100)])
    # Comma-separated analytics.ValueSegment values; empty: any segment.
    segments = models.CharField(_("value segments"), max_length=60, blank=True)
    discount_percent = models.PositiveSmallIntegerField(
        _("discount (%)"), validators=[MinValueValidator(1), MaxValueValidator(90)])
    min_order = models.DecimalField(
        _("on orders of at least"), max_digits=14, decimal_places=2, default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))])
    valid_days = models.PositiveSmallIntegerField(
        _("valid for (days)"), default=28, validators=[MinValueValidator(1),
                                                        MaxValueValidator(366)])
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("coupon tier")
        verbose_name_plural = _("coupon tiers")
        ordering = ["-min_loyalty", "-discount_percent", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the reader's language."""
        lang = translation.get_language() or ""
        return (self.name_zh or self.name_en) if lang.startswith("zh") else \
            (self.name_en or self.name_zh)

    @property
    def segment_list(self) -> list[str]:
        return [s for s in (x.strip() for x in self.segments.split(",")) if s]


# name_en, name_zh, loyalty at least, segments, discount %, minimum order, valid days
DEFAULT_TIERS = [
    ("Gold", "金卡", 75, "invest,maintain", 15, "0.00", 28),
    ("Silver", "银卡", 50, "", 10, "0.00", 28),
    ("Bronze", "铜卡", 30, "", 5, "20.00", 28),
]


class OfferList(TimeStampedModel):
    """A personalised offer list (个性化购物清单) as built for one customer on one day."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="offer_lists", verbose_name=_("customer"))
    as_of = models.DateField(_("built from purchases up to"))
    valid_until = models.DateField(_("valid until"))
    spend = models.DecimalField(_("spend in the period"), max_digits=14, decimal_places=2)
    built_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+",
                                 verbose_name=_("built by"))

    class Meta:
        verbose_name = _("offer list")
        verbose_name_plural = _("offer lists")
        ordering = ["-as_of", "-id"]
        indexes = [models.Index(fields=["customer", "as_of"]),
                   models.Index(fields=["as_of", "id"])]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.as_of}"


class ItemKind(models.TextChoices):
    DUE = "due", _("Due again")
    SUGGESTED = "suggested", _("Bought by similar customers")


class OfferItem(models.Model):
    offer_list = models.ForeignKey(OfferList, on_delete=models.CASCADE, related_name="items",
                                   verbose_name=_("offer list"))
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=10, choices=ItemKind.choices)
    product = models.ForeignKey("customers.Product", on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("product"))
    price = models.DecimalField(_("price"), max_digits=14, decimal_places=2)
    # Due again: their rhythm and when it is due.
    last_bought = models.DateField(_("last bought"), null=True, blank=True)
    rhythm_days = models.PositiveIntegerField(_("usually every (days)"), null=True, blank=True)
    purchase_days = models.PositiveIntegerField(_("purchase days"), null=True, blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    # Bought by similar customers: the customer's product that speaks for it.
    because = models.ForeignKey("customers.Product", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("because they bought"))
    share = models.FloatField(_("share of its buyers"), null=True, blank=True)
    co_buyers = models.PositiveIntegerField(_("customers who bought both"), null=True,
                                            blank=True)

    class Meta:
        verbose_name = _("offer item")
        verbose_name_plural = _("offer items")
        ordering = ["offer_list", "position"]
        constraints = [models.UniqueConstraint(fields=["offer_list", "product"],
                                               name="offers_item_once_per_list")]

    def __str__(self) -> str:
        return f"{self.offer_list_id}: {self.product_id}"

    @property
    def percent(self) -> int | None:
        return None if self.share is None else round(self.share * 100)


class Coupon(TimeStampedModel):
    """A coupon with a unique code, issued to one customer with an offer list (or by hand),
    and redeemed at most once, against one of the customer's transactions."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="coupons", verbose_name=_("customer"))
    offer_list = models.OneToOneField(OfferList, null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="coupon",
                                      verbose_name=_("offer list"))
    tier = models.ForeignKey(CouponTier, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="coupons", verbose_name=_("tier"))
    # The tier's terms when issued: editing a tier later does not change issued coupons.
    tier_name = models.CharField(_("tier"), max_length=60)
    discount_percent = models.PositiveSmallIntegerField(_("discount (%)"))
    min_order = models.DecimalField(_("on orders of at least"), max_digits=14,
                                    decimal_places=2, default=Decimal("0"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    loyalty_index = models.FloatField(_("loyalty index when issued"), null=True, blank=True)
    segment = models.CharField(_("value segment when issued"), max_length=10, blank=True,
                               choices=ValueSegment.choices)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+",
                                  verbose_name=_("issued by"))
    redeemed_transaction = models.OneToOneField(
        "customers.Transaction", null=True, blank=True, on_delete=models.PROTECT,
        related_name="coupon", verbose_name=_("redeemed with"))
    redeemed_on = models.DateField(_("redeemed on"), null=True, blank=True, db_index=True)
    discount_amount = models.DecimalField(_("discount given"), max_digits=14,
                                          decimal_places=2, null=True, blank=True)
    redeemed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("redemption recorded by"))

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["-valid_from", "-id"]
        indexes = [models.Index(fields=["customer", "valid_from"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(valid_until__gte=models.F("valid_from")),
                                   name="offers_coupon_valid_range"),
            models.CheckConstraint(
                condition=models.Q(redeemed_transaction__isnull=True, redeemed_on__isnull=True)
                | models.Q(redeemed_transaction__isnull=False, redeemed_on__isnull=False),
                name="offers_coupon_redeemed_with_date"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def tier_label(self) -> str:
        """The tier's name in the reader's language while the tier exists, else as issued."""
        return self.tier.name if self.tier_id and self.tier else self.tier_name

    @property
    def redeemed(self) -> bool:
        return self.redeemed_transaction_id is not None


class SendChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PRINT = "print", _("Printed")
    EXPORT = "export", _("Exported")


class SendStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    REFUSED = "refused", _("Not sent: no consent")
    FAILED = "failed", _("Not sent")


class OfferSend(models.Model):
    """One time an offer list left kehu: e-mailed (through the consent check), printed or
    exported."""

    offer_list = models.ForeignKey(OfferList, on_delete=models.CASCADE, related_name="sends",
                                   verbose_name=_("offer list"))
    channel = models.CharField(_("channel"), max_length=10, choices=SendChannel.choices)
    status = models.CharField(_("status"), max_length=10, choices=SendStatus.choices,
                              default=SendStatus.SENT)
    recipient = models.CharField(_("to"), max_length=254, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    at = models.DateTimeField(_("when"), db_index=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                           on_delete=models.SET_NULL, related_name="+", verbose_name=_("by"))

    class Meta:
        verbose_name = _("offer list send")
        verbose_name_plural = _("offer list sends")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.offer_list_id} {self.channel} {self.at:%Y-%m-%d}"
