"""Writes of referrals: issuing a customer's referral code, recording that a new customer
came with a code (through kehu.analytics.services.record_referral, which checks and audits
the referral itself), and rewarding the referrer."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.analytics.models import Referral
from kehu.analytics.services import record_referral
from kehu.audit.services import record
from kehu.core import policy
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.permissions import VIEW, can
from kehu.customers.models import Customer
from kehu.marketing.referrals.models import ReferralCode, ReferralReward, RewardKind

# No 0/O, 1/I/L: a code is read out on the phone and typed from paper.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 8


def _new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _i in range(LENGTH))


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


@transaction.atomic
def issue_referral_code(user, customer: Customer, *, ip: str | None = None,
                        via: str = "web") -> ReferralCode:
    """The customer's referral code, made now if it has none (a customer keeps its code)."""
    if not policy.may_manage_referrals(user) or not can(user, VIEW, customer):
        raise NotPermitted(_("You may not give this customer a referral code."))
    current = customer.referral_codes.order_by("created_at", "id").first()
    if current is not None:
        return current
    for _attempt in range(10):
        code = _new_code()
        if not ReferralCode.objects.filter(code=code).exists():
            break
    else:  # pragma: no cover - 31^8 codes
        raise ServiceError(_("No free referral code was found; try again."))
    made = ReferralCode.objects.create(customer=customer, code=code,
                                       created_by=user if user.pk else None)
    record(user, "referral.code", obj=customer, ip=ip, via=via, detail={"code": code})
    return made


@transaction.atomic
def record_referral_by_code(user, referred: Customer, code: str, *,
                            referred_on: dt.date | None = None, ip: str | None = None,
                            via: str = "web") -> Referral:
    """`referred` came to us with the referral code `code`: the code's customer referred
    it. The user must be allowed to change the new customer's card and to see the
    referrer's; an unknown code is refused by name."""
    wanted = _normalise_code(code)
    found = ReferralCode.objects.select_related("customer").filter(code=wanted).first()
    if found is None or not can(user, VIEW, found.customer):
        raise ServiceError(_("No customer you may see has the referral code “%(code)s”.")
                           % {"code": code.strip()[:20]}, field="code")
    return record_referral(user, referred, found.customer,
                           referred_on=referred_on or timezone.localdate(),
                           note=_("Referral code %(code)s") % {"code": wanted}, ip=ip, via=via)


@transaction.atomic
def grant_referral_reward(user, referral: Referral, *, kind: str, value, note: str = "",
                          granted_on: dt.date | None = None, ip: str | None = None,
                          via: str = "web") -> ReferralReward:
    """Reward the referrer for one referral (once)."""
    referrer = referral.referrer
    if not policy.may_grant_referral_rewards(user) or not can(user, VIEW, referrer):
        raise NotPermitted(_("You may not reward this customer."))
    if kind not in RewardKind.values:
        raise ServiceError(_("Choose a kind of reward."), field="kind")
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ServiceError(_("Enter the reward's value as a number."), field="value") from None
    if amount < 0 or amount >= Decimal("1e10"):
        raise ServiceError(_("The reward's value must be zero or more."), field="value")
    note = (note or "").strip()
    if len(note) > 300:
        raise ServiceError(_("The note is at most 300 characters."), field="note")
    if ReferralReward.objects.filter(referral=referral).exists():
        raise ServiceError(_("This referral has already been rewarded."))
    try:
        with transaction.atomic():
            reward = ReferralReward.objects.create(
                referral=referral, customer=referrer, kind=kind, value=amount, note=note,
                granted_on=granted_on or timezone.localdate(),
                granted_by=user if user.pk else None)
    except IntegrityError:
        raise ServiceError(_("This referral has already been rewarded.")) from None
    record(user, "referral.reward", obj=referrer, ip=ip, via=via, detail={
        "kind": kind, "amount": str(amount), "referred": referral.referred_id})
    return reward
