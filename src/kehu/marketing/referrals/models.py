"""Referral codes and the rewards given for referrals. The referral itself (who brought
whom) is kehu.analytics.Referral."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel

__all__ = ["ReferralCode", "ReferralReward", "RewardKind"]


class ReferralCode(TimeStampedModel):
    """A code the customer hands on; whoever names it when they come to us was referred by
    the customer. A customer keeps the codes it had when two cards are merged, so a code
    once given out always finds its referrer."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="referral_codes", verbose_name=_("customer"))
    code = models.CharField(_("referral code"), max_length=12, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))

    class Meta:
        verbose_name = _("referral code")
        verbose_name_plural = _("referral codes")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.code


class RewardKind(models.TextChoices):
    COUPON = "coupon", _("Coupon")
    DISCOUNT = "discount", _("Discount on the next order")
    GIFT = "gift", _("Gift")
    POINTS = "points", _("Loyalty points")


class ReferralReward(TimeStampedModel):
    """What the referrer got for one referral (at most one reward per referral)."""

    referral = models.OneToOneField("analytics.Referral", on_delete=models.CASCADE,
                                    related_name="reward", verbose_name=_("referral"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="referral_rewards",
                                 verbose_name=_("rewarded customer"))
    kind = models.CharField(_("reward"), max_length=20, choices=RewardKind.choices)
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=2,
                                validators=[MinValueValidator(0)])
    granted_on = models.DateField(_("granted on"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("granted by"))

    class Meta:
        verbose_name = _("referral reward")
        verbose_name_plural = _("referral rewards")
        ordering = ["-granted_on", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(value__gte=0),
                                              name="referral_reward_value")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.kind} {self.value}"
