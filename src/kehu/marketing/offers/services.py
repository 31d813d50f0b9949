"""Writes of one-to-one offers: building offer lists (with their coupon), recording a
coupon's redemption against a transaction, sending, printing and exporting a list, and the
offer settings and coupon tiers. Each checks the policy and the customer's scope, writes in
one transaction and is audited."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.audit.services import record
from kehu.core import jobs, policy
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.models import Job
from kehu.core.permissions import VIEW, can, customer_filter, in_own_scope
from kehu.customers.models import Customer, Transaction, TransactionKind
from kehu.marketing.consent.models import Channel, Consent, ConsentStatus
from kehu.marketing.consent.selectors import refusing
from kehu.marketing.consent.sending import send_marketing_email
from kehu.marketing.offers import engine, mailing
from kehu.marketing.offers.models import (
    Coupon,
    CouponTier,
    OfferItem,
    OfferList,
    OfferSend,
    OfferSettings,
    SendChannel,
    SendStatus,
)
from kehu.marketing.offers.texts import email_body, email_subject

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a till
SETTINGS_FIELDS = ("spend_threshold", "spend_weeks", "every_weeks", "due_items",
                   "suggested_items", "min_purchase_days")
TIER_FIELDS = ("name_en", "name_zh", "min_loyalty", "segments", "discount_percent",
               "min_order", "valid_days", "active")


@dataclass(frozen=True)
class BuildResult:
    lists: int
    items: int
    coupons: int
    customers_due: int


def new_coupon_code() -> str:
    """A code like KH-7QX4-M2PD: 40 random bits, unambiguous when read out."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _i in range(8))
    return f"KH-{raw[:4]}-{raw[4:]}"


def _unique_codes(n: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < n:
        wanted = n - len(codes)
        fresh = {new_coupon_code() for _i in range(wanted)} - codes
        taken = set(Coupon.objects.filter(code__in=fresh).values_list("code", flat=True))
        codes |= fresh - taken
    return sorted(codes)


def _require_manager(user: User) -> None:
    if not policy.may_manage_offers(user):
        raise NotPermitted(_("Only marketing, managers and administrators build and send "
                             "offer lists."))


def _own_scope(user: User, customer: Customer) -> None:
    """The customer is in the user's own scope: a customer file on loan is read-only."""
    if not in_own_scope(user, customer):
        raise NotPermitted(_("You may not build offers for this customer."))


def _refusing(user: User | None, customer_ids) -> set[int]:
    """Of these customers, those who refused personalisation: they get no offer list."""
    if user is not None:
        return refusing(user, Channel.PERSONALISATION, customer_ids)
    return set(Consent.objects.filter(
        customer_id__in=list(customer_ids), contact__isnull=True,
        channel=Channel.PERSONALISATION, status=ConsentStatus.REFUSED)
        .values_list("customer_id", flat=True))


def _write(user: User | None, plans: list[engine.Plan], as_of: dt.date,
           valid_until: dt.date) -> BuildResult:
    lists = OfferList.objects.bulk_create([
        OfferList(customer_id=p.customer_id, as_of=as_of, valid_until=valid_until,
                  spend=p.spend, built_by=user) for p in plans])
    items = []
    for offer_list, p in zip(lists, plans, strict=True):
        items += [OfferItem(offer_list=offer_list, position=n, kind=i.kind, product=i.product,
                            price=i.price, last_bought=i.last_bought,
                            rhythm_days=i.rhythm_days, purchase_days=i.purchase_days,
                            due_on=i.due_on, because=i.because, share=i.share,
                            co_buyers=i.co_buyers)
                  for n, i in enumerate(p.items, start=1)]
    OfferItem.objects.bulk_create(items, batch_size=2000)
    with_tier = [(offer_list, p) for offer_list, p in zip(lists, plans, strict=True) if p.tier]
    codes = _unique_codes(len(with_tier))
    coupons = [Coupon(code=code, customer_id=p.customer_id, offer_list=offer_list,
                      tier=p.tier, tier_name=p.tier.name_en,
                      discount_percent=p.tier.discount_percent,
                      min_order=p.tier.min_order, valid_from=as_of,
                      valid_until=as_of + dt.timedelta(days=p.tier.valid_days),
                      loyalty_index=p.loyalty_index, segment=p.segment, issued_by=user)
               for code, (offer_list, p) in zip(codes, with_tier, strict=True)]
    Coupon.objects.bulk_create(coupons, batch_size=2000)
    return BuildResult(len(lists), len(items), len(coupons), len(plans))


@transaction.atomic
def build_offer_lists(user: User | None, *, as_of: dt.date | None = None,
                      ip: str | None = None, via: str = "web") -> BuildResult:
    """A new offer list for every customer in the user's own scope (everyone's, for the
    daily run without a user) who spends enough and is due one (kehu.marketing.offers.engine);
    a customer whose list would be empty and who gets no coupon gets none."""
    if user is not None:
        _require_manager(user)
    as_of = as_of or timezone.localdate()
    settings = OfferSettings.current()
    customers = Customer.objects.all()
    if user is not None:
        condition = customer_filter(user, VIEW, loans=False)
        if condition is not None:
            customers = customers.filter(condition)
    due = engine.eligible(customers, settings, as_of)
    for pk in _refusing(user, due):
        del due[pk]
    plans = [p for p in engine.plan(due, settings, as_of) if p.items or p.tier]
    result = _write(user, plans, as_of, as_of + dt.timedelta(weeks=settings.every_weeks))
    record(user, "offers.build", ip=ip, via=via if user is not None else "system", detail={
        "as_of": as_of.isoformat(), "count": result.lists, "coupons": result.coupons})
    return result


@transaction.atomic
def build_offer_list(user: User, customer: Customer, *, as_of: dt.date | None = None,
                     ip: str | None = None, via: str = "web") -> OfferList:
    """A new offer list for one customer now, whatever their spend and however recent their
    last list (a marketer's decision); never for one who refused personalisation, and never
    an empty one."""
    _require_manager(user)
    _own_scope(user, customer)
    if _refusing(user, [customer.pk]):
        raise ValidationError(_("The customer refused personalisation: kehu builds no "
                                "personalised offer list for them."))
    as_of = as_of or timezone.localdate()
    settings = OfferSettings.current()
    since = as_of - dt.timedelta(weeks=settings.spend_weeks)
    spend = engine.spend_since([customer.pk], since, as_of).get(customer.pk, Decimal("0"))
    plans = engine.plan({customer.pk: spend}, settings, as_of)
    if not plans[0].items and plans[0].tier is None:
        raise ValidationError(_("Nothing to offer yet: the customer has no product they buy "
                                "regularly, none that similar customers buy, and no coupon "
                                "tier fits their loyalty."))
    _write(user, plans, as_of, as_of + dt.timedelta(weeks=settings.every_weeks))
    offer_list = OfferList.objects.filter(customer=customer).latest("id")
    record(user, "offers.build", obj=offer_list, ip=ip, via=via, detail={
        "as_of": as_of.isoformat(), "count": 1,
        "coupons": int(Coupon.objects.filter(offer_list=offer_list).exists())})
    return offer_list


def _money(value: Any) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@transaction.atomic
def redeem_coupon(user: User, code: str, txn: Transaction, *, ip: str | None = None,
                  via: str = "web") -> Coupon:
    """Record that the coupon `code` was used on the customer's order `txn`: the coupon must
    be the customer's, unused, valid on the order's date, and the order large enough. The
    discount given is the coupon's share of the order's amount."""
    if not policy.may_redeem_coupons(user):
        raise NotPermitted(_("You may not record coupon redemptions."))
    customer = txn.customer
    if not can(user, VIEW, customer):
        raise NotPermitted(_("You may not see this customer."))
    code = (code or "").strip().upper()
    coupon = Coupon.objects.select_for_update().filter(code=code).first()
    if coupon is None or coupon.customer_id != customer.pk:
        raise ValidationError({"code": _("No coupon %(code)s was issued to this customer.")
                               % {"code": code or "—"}})
    if coupon.redeemed_transaction_id is not None:
        raise ValidationError({"code": _("Coupon %(code)s was already redeemed on %(date)s.")
                               % {"code": code, "date": coupon.redeemed_on.isoformat()}})
    if txn.kind == TransactionKind.RETURN or txn.amount <= 0:
        raise ValidationError({"transaction": _("A coupon is redeemed on an order or an "
                                                "invoice, not on a return.")})
    # Two clerks redeeming on the same order at once: the second waits here and is told.
    list(Transaction.objects.select_for_update().filter(pk=txn.pk).values_list("pk"))
    if Coupon.objects.filter(redeemed_transaction=txn).exists():
        raise ValidationError({"transaction": _("Another coupon was already redeemed on "
                                                "this transaction.")})
    if not coupon.valid_from <= txn.date <= coupon.valid_until:
        raise ValidationError({"transaction": _(
            "Coupon %(code)s is valid from %(start)s to %(end)s; the transaction is of "
            "%(date)s.") % {"code": code, "start": coupon.valid_from.isoformat(),
                            "end": coupon.valid_until.isoformat(), "date": txn.date.isoformat()}})
    if txn.amount < coupon.min_order:
        raise ValidationError({"transaction": _(
            "Coupon %(code)s needs an order of at least %(min)s.")
            % {"code": code, "min": coupon.min_order}})
    coupon.redeemed_transaction = txn
    coupon.redeemed_on = txn.date
    coupon.discount_amount = _money(txn.amount * coupon.discount_percent / Decimal(100))
    coupon.redeemed_by = user
    coupon.save(update_fields=["redeemed_transaction", "redeemed_on", "discount_amount",
                               "redeemed_by", "updated_at"])
    record(user, "coupon.redeem", obj=coupon, ip=ip, via=via,
           detail={"coupon": coupon.code, "transaction": txn.pk})
    return coupon


@transaction.atomic
def record_offer_output(user: User, offer_list: OfferList, channel: str, *,
                        ip: str | None = None, via: str = "web") -> OfferSend:
    """A list printed or exported (for the post, a till, the customer in the shop)."""
    _require_manager(user)
    if channel not in (SendChannel.PRINT, SendChannel.EXPORT):
        raise ValidationError({"channel": _("Print or export.")})
    if not can(user, VIEW, offer_list.customer):
        raise NotPermitted(_("You may not see this customer."))
    send = OfferSend.objects.create(offer_list=offer_list, channel=channel, at=timezone.now(),
                                    by=user)
    record(user, f"offers.{channel}", obj=offer_list, ip=ip, via=via,
           detail={"offer_list": offer_list.pk})
    return send


@transaction.atomic
def send_offer_list(user: User, offer_list: OfferList, *, ip: str | None = None,
                    via: str = "web") -> OfferSend:
    """E-mail one list to its customer now, through the marketing send service: consent to
    e-mail and a refusal of personalisation are checked as it is sent; the list records
    whether it went out and, if not, why."""
    _require_manager(user)
    offer_list = mailing.lists_with_items().get(pk=offer_list.pk)
    _own_scope(user, offer_list.customer)
    mail = send_marketing_email(user, offer_list.customer, subject=email_subject(offer_list),
                                body=email_body(offer_list), origin=mailing.ORIGIN,
                                origin_id=offer_list.pk, personalised=True, ip=ip, via=via)
    send = mailing.offer_send_for(offer_list.pk, mail, user)
    send.save()
    return send


@transaction.atomic
def start_offer_mailing(user: User, *, today: dt.date | None = None) -> Job:
    """E-mail, as a background job, each customer's current list (still valid on `today`)
    that has not been e-mailed yet, over the user's own scope. Consent and a refusal of
    personalisation are checked for each one when its e-mail is sent."""
    _require_manager(user)
    today = today or timezone.localdate()
    lists = OfferList.objects.filter(valid_until__gte=today)
    condition = customer_filter(user, VIEW, loans=False)
    if condition is not None:
        lists = lists.filter(customer__in=Customer.objects.filter(condition).values("pk"))
    latest: dict[int, int] = {}
    for pk, customer_id in lists.order_by("as_of", "pk").values_list("pk", "customer_id"):
        latest[customer_id] = pk
    mailed = set(OfferSend.objects.filter(
        offer_list_id__in=list(latest.values()), channel=SendChannel.EMAIL,
        status=SendStatus.SENT).values_list("offer_list_id", flat=True))
    ids = sorted(pk for pk in latest.values() if pk not in mailed)
    if not ids:
        raise ServiceError(_("Every current offer list has been e-mailed already."))
    return jobs.start(mailing.JOB, mailing.run_offer_mailing, args=(user.pk, ids), user=user,
                      title=_("E-mail %(n)s offer lists") % {"n": len(ids)})


@transaction.atomic
def update_offer_settings(user: User, data: dict[str, Any], *, ip: str | None = None
                          ) -> OfferSettings:
    if not policy.may_change_settings(user):
        raise NotPermitted(_("Only administrators change the offer settings."))
    settings = OfferSettings.objects.select_for_update().get(pk=OfferSettings.current().pk)
    changed = []
    for name in SETTINGS_FIELDS:
        if name in data and getattr(settings, name) != data[name]:
            setattr(settings, name, data[name])
            changed.append(name)
    settings.updated_by = user
    settings.full_clean(exclude=["updated_by"])
    settings.save()
    record(user, "offers.settings", ip=ip, via="web", detail={"fields": changed})
    return settings


@transaction.atomic
def save_coupon_tier(user: User, tier: CouponTier | None, data: dict[str, Any], *,
                     ip: str | None = None) -> CouponTier:
    """Add a coupon tier or change one; coupons already issued keep their terms."""
    if not policy.may_change_settings(user):
        raise NotPermitted(_("Only administrators change the coupon tiers."))
    tier = tier or CouponTier()
    for name in TIER_FIELDS:
        if name in data:
            setattr(tier, name, data[name])
    tier.full_clean()
    tier.save()
    record(user, "offers.tier", obj=tier, ip=ip, via="web", detail={"label": tier.name_en})
    return tier

