"""Writes around customer value: starting a refresh, the firm's value settings, activity
unit costs, segment actions and referrals. Each checks who may do it and is audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.analytics.models import (
    ActivityCost,
    LoyaltyStatement,
    Referral,
    SegmentAction,
    ValueSegment,
    ValueSettings,
)
from kehu.audit.services import record
from kehu.core import jobs, money, policy
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.models import FirmSettings, Job, JobStatus
from kehu.core.permissions import CHANGE, VIEW, can
from kehu.customers.models import Customer

REFRESH_JOB = "value.refresh"


def _run_refresh(progress, user_id: int | None) -> dict[str, Any]:
    from kehu.analytics.refresh import refresh_values

    user = User.objects.filter(pk=user_id).first() if user_id else None
    run = refresh_values(user, progress, via="web")
    return {"refresh": run.pk, "customers": run.customers, "seconds": round(run.seconds, 1),
            "warnings": [w["message"] for w in run.warnings]}


def running_refresh() -> Job | None:
    return Job.objects.filter(kind=REFRESH_JOB,
                              status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).first()


def start_refresh(user: User) -> Job:
    """Refresh every customer's value in the background; one refresh at a time."""
    if not policy.may_refresh_value(user):
        raise NotPermitted(_("Only analysts and administrators may refresh customer value."))
    jobs.reap_interrupted()
    with transaction.atomic():
        running = running_refresh()
        if running is not None:
            return running
        job = jobs.start(REFRESH_JOB, _run_refresh, args=(user.pk,), user=user,
                         title=_("Refresh customer value"))
    return job


def _admin(user: User) -> None:
    if not policy.may_change_settings(user):
        raise NotPermitted(_("Only administrators may change the value settings."))


@transaction.atomic
def update_settings(user: User, data: Mapping[str, Any], *, ip: str | None = None
                    ) -> ValueSettings:
    _admin(user)
    current = ValueSettings.current()
    changed = {}
    for field, value in data.items():
        if field in {"id", "updated_at", "updated_by"} or not hasattr(current, field):
            raise ServiceError(_("Unknown field."), field=field)
        if getattr(current, field) != value:
            changed[field] = str(value)
            setattr(current, field, value)
    current.updated_by = user
    current.full_clean()
    current.save()
    record(user, "value.settings", ip=ip, detail=changed)
    return current


@transaction.atomic
def set_currency(user: User, code: str, *, ip: str | None = None) -> FirmSettings:
    """The currency every amount is shown in (the figures themselves stay as they are)."""
    _admin(user)
    code = (code or "").strip().upper()
    if code not in money.CURRENCIES:
        raise ServiceError(_("Pick a currency from the list."), field="currency")
    firm, _created = FirmSettings.objects.get_or_create(pk=1)
    before = firm.currency
    firm.currency = code
    firm.save()
    money.forget()
    transaction.on_commit(money.forget)
    record(user, "firm.currency", ip=ip, detail={"from": before, "to": code})
    return firm


@transaction.atomic
def set_activity_cost(user: User, kind: str, unit_cost: Any, *,
                      investment: bool | None = None, ip: str | None = None) -> ActivityCost:
    """The unit cost of an activity kind and, when given, whether the kind is a relationship
    investment (shown beside realised value, not deducted from it) or a cost to serve."""
    from kehu.analytics.sources import cost_kinds

    _admin(user)
    if kind not in dict(cost_kinds()):
        raise ServiceError(_("Unknown activity kind."), field="kind")
    try:
        cost = Decimal(str(unit_cost))
    except (InvalidOperation, ValueError):
        raise ServiceError(_("Enter a number."), field="unit_cost") from None
    if not cost.is_finite() or cost < 0:
        raise ServiceError(_("A unit cost is a number of 0 or more."), field="unit_cost")
    row, _created = ActivityCost.objects.get_or_create(kind=kind)
    before, was_investment = row.unit_cost, row.investment
    row.unit_cost = cost
    if investment is not None:
        row.investment = bool(investment)
    row.full_clean()
    row.save()
    detail = {"kind": kind, "from": str(before), "to": str(cost)}
    if row.investment != was_investment:
        detail["investment"] = row.investment
    record(user, "value.activity_cost", ip=ip, detail=detail)
    return row


@transaction.atomic
def set_segment_action(user: User, segment: str, *, create_task: bool, subject: str = "",
                       due_in_days: int = 14, ip: str | None = None) -> SegmentAction:
    _admin(user)
    if segment not in ValueSegment.values:
        raise ServiceError(_("Unknown segment."), field="segment")
    # The rows come with a migration; a database emptied since (a restore, a flush) gets
    # the segment's row back on its first change instead of an error.
    action, _created = SegmentAction.objects.get_or_create(segment=segment)
    action.create_task, action.subject, action.due_in_days = create_task, subject, due_in_days
    action.full_clean()
    action.save()
    record(user, "value.segment_action", ip=ip, detail={
        "segment": segment, "create_task": create_task, "subject": subject,
        "due_in_days": due_in_days})
    return action


@transaction.atomic
def record_referral(user: User, referred: Customer, referrer: Customer, *,
                    referred_on: dt.date, note: str = "", ip: str | None = None,
                    via: str = "web") -> Referral:
    """`referrer` brought `referred`. The user must be allowed to change the new customer's
    card and to see the referrer's."""
    if not can(user, CHANGE, referred) or not can(user, VIEW, referrer):
        raise NotPermitted(_("You may not record this referral."))
    if referred.pk == referrer.pk:
        raise ServiceError(_("A customer cannot refer themselves."), field="referrer")
    if Referral.objects.filter(referred=referred).exists():
        raise ServiceError(_("This customer's referral is already recorded; remove it first."),
                           field="referrer")
    referral = Referral(referrer=referrer, referred=referred, referred_on=referred_on,
                        note=note, created_by=user)
    try:
        referral.full_clean()
        referral.save()
    except (ValidationError, IntegrityError) as exc:
        raise ServiceError(_("This referral cannot be recorded: %(why)s") % {"why": exc}) \
            from exc
    record(user, "referral.create", obj=referred, ip=ip, via=via,
           detail={"referrer": referrer.pk})
    return referral


@transaction.atomic
def record_referral_of_lead(sender, *, lead, customer, user, ip=None, via="web",
                            **kwargs) -> Referral | None:
    """A lead converted into `customer` (kehu.sales.leads.signals.lead_converted): when a
    customer referred it, the referral is recorded, dated the day the lead came in, and
    counts in the referrer's influence value. Runs inside the conversion's transaction."""
    if not lead.referrer_id:
        return None
    return record_referral(user, customer, lead.referrer,
                           referred_on=timezone.localdate(lead.created_at),
                           note=_("Lead #%(id)s") % {"id": lead.pk}, ip=ip, via=via)


@transaction.atomic
def remove_referral(user: User, referred: Customer, *, ip: str | None = None,
                    via: str = "web") -> None:
    referral = Referral.objects.filter(referred=referred).first()
    if referral is None:
        raise ServiceError(_("No referral is recorded for this customer."))
    if not can(user, CHANGE, referred):
        raise NotPermitted(_("You may not change this customer."))
    record(user, "referral.delete", obj=referred, ip=ip, via=via,
           detail={"referrer": referral.referrer_id})
    referral.delete()


@transaction.atomic
def record_loyalty_statement(user: User, customer: Customer, *, stated_on: dt.date,
                             buy_again: int | None = None, recommend: int | None = None,
                             wallet_share: int | None = None, note: str = "",
                             ip: str | None = None, via: str = "web") -> LoyaltyStatement:
    """Record what the customer said about buying again, recommending us and the share of
    their purchases we get. Earlier statements are kept; the latest counts in the loyalty
    index from the next refresh on."""
    if not can(user, CHANGE, customer):
        raise NotPermitted(_("You may not change this customer."))
    if buy_again is None and recommend is None and wallet_share is None:
        raise ServiceError(_("Give at least one of: intention to buy again, to recommend, "
                             "share of wallet."), field="buy_again")
    for field, value, top in (("buy_again", buy_again, 10), ("recommend", recommend, 10),
                              ("wallet_share", wallet_share, 100)):
        if value is not None and not 0 <= value <= top:
            raise ServiceError(_("Give a whole number from 0 to %(top)d.") % {"top": top},
                               field=field)
    if stated_on > timezone.localdate():
        raise ServiceError(_("A statement cannot be dated in the future."), field="stated_on")
    statement = LoyaltyStatement(customer=customer, stated_on=stated_on, buy_again=buy_again,
                                 recommend=recommend, wallet_share=wallet_share,
                                 note=note[:300], created_by=user)
    statement.full_clean()
    statement.save()
    record(user, "loyalty.statement", obj=customer, ip=ip, via=via,
           detail={"stated_on": stated_on.isoformat(), "buy_again": buy_again,
                   "recommend": recommend, "wallet_share": wallet_share})
    return statement


@transaction.atomic
def raise_risk(user: User | None, customer: Customer, *, reason: str, ip: str | None = None,
               via: str = "web") -> bool:
    """Mark a scored customer at risk now, for a reason the refresh's rules cannot see (a
    complaint): the at-risk list shows them at once, and the refresh keeps them there while a
    registered source (kehu.analytics.sources) still names them. Returns whether the mark
    was new; a customer without scores is left alone."""
    from kehu.analytics.models import CustomerValue

    raised = CustomerValue.objects.filter(customer=customer, at_risk=False).update(at_risk=True)
    if raised:
        record(user, "value.risk_raised", obj=customer, ip=ip, via=via,
               detail={"reason": reason[:200]})
    return bool(raised)
