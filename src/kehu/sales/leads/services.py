"""Writes to leads: create, change, judge by the MAN rule, add a contact, convert into a
customer. Each is one transaction and audited; the prescribed action's task follows every
judgement (the old action's open task closes, the new one opens)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.audit.services import record
from kehu.core import policy
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.permissions import CHANGE, VIEW, can, restrict
from kehu.core.versions import check_version
from kehu.customers import services as customer_services
from kehu.customers.models import Customer, LifecycleState
from kehu.sales.leads import man
from kehu.sales.leads.models import (
    CHECKLIST,
    Factor,
    Lead,
    LeadContact,
    LeadSource,
    LeadStatus,
    ManJudgement,
)
from kehu.sales.leads.scoring import LoyalProfile, score_lead
from kehu.sales.leads.signals import lead_converted
from kehu.tasks.models import Task, TaskStatus

# What a user may write on a lead (management fields — owner, status, action — are set by
# the services).
LEAD_FIELDS = ("name", "industry", "province", "city", "size", "website", "contact_name",
               "contact_title", "phone", "email", "source", "source_detail", "notes",
               *(name for name, _label in CHECKLIST))
CONTACT_FIELDS = ("name", "title", "phone", "email")
ORIGIN_PREFIX = "lead:"


def _origin_of(action: str) -> str:
    return f"{ORIGIN_PREFIX}{action}"


def _clean(obj, exclude: Iterable[str] = ()) -> None:
    try:
        obj.full_clean(exclude=list(exclude), validate_unique=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ServiceError(messages[0], field=None if field == "__all__" else field) from exc


def _check_fields(data: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ServiceError(_("Unknown field: %(field)s.") % {"field": sorted(unknown)[0]},
                           field=sorted(unknown)[0])


def _check_referrer(user: User, lead: Lead, *, referrer_changed: bool = True) -> None:
    if lead.source == LeadSource.REFERRAL and lead.referrer_id is None:
        raise ServiceError(_("A referral names the customer who referred the lead."),
                           field="referrer")
    if lead.referrer_id is not None:
        if lead.source != LeadSource.REFERRAL:
            raise ServiceError(_("Only a referral names a referring customer."),
                               field="referrer")
        # A referrer the user cannot see may stay when someone else recorded it.
        if referrer_changed and not can(user, VIEW, lead.referrer):
            raise ServiceError(_("Choose a referring customer you may see."), field="referrer")


def _may_change(user: User, lead: Lead) -> bool:
    return restrict(Lead.objects.filter(pk=lead.pk), user, CHANGE).exists()


def _locked(lead: Lead) -> Lead:
    return Lead.objects.select_for_update().get(pk=lead.pk)


def _judge(lead: Lead, judgements: Mapping[str, tuple[bool | None, str]], *, by: User | None,
           at: dt.datetime) -> list[str]:
    """Set the judgements given (factor → (yes/no/None, why)), keeping each in the history;
    returns the factors whose value or note changed."""
    changed = []
    rows = []
    for factor, (value, note) in judgements.items():
        if factor not in Factor.values:
            raise ServiceError(_("Unknown judgement: %(factor)s.") % {"factor": factor},
                               field=factor)
        note = (note or "").strip()[:300]
        if getattr(lead, factor) == value and getattr(lead, f"{factor}_note") == note:
            continue
        setattr(lead, factor, value)
        setattr(lead, f"{factor}_note", note)
        rows.append(ManJudgement(lead=lead, factor=factor, value=value, note=note,
                                 judged_by=by, judged_at=at))
        changed.append(factor)
    ManJudgement.objects.bulk_create(rows)
    return changed


def _settle(lead: Lead, *, at: dt.datetime, profile: LoyalProfile | None = None) -> None:
    """The action, status and score that follow from the lead's judgements."""
    lead.action = man.action_code(lead.money, lead.authority, lead.need)
    if lead.status != LeadStatus.CONVERTED:
        if lead.action == man.STOP:
            lead.status = LeadStatus.DISQUALIFIED
        elif lead.action == man.JUDGE:
            lead.status = LeadStatus.NEW
        else:
            lead.status = LeadStatus.QUALIFIED
            lead.qualified_at = lead.qualified_at or at
    lead.score = score_lead(lead, profile).total


def _sync_task(lead: Lead, *, by: User | None, today: dt.date) -> None:
    """One open task for the lead's prescribed action, for its owner: an open task of
    another action closes (the lead was judged again), the current one opens unless it is
    open already. A converted or stopped lead keeps no open task."""
    wanted = None
    action = man.ACTIONS[lead.action]
    if lead.status != LeadStatus.CONVERTED and action.due_in_days is not None:
        wanted = _origin_of(lead.action)
    stale = Task.objects.filter(lead=lead, origin__startswith=ORIGIN_PREFIX,
                                status=TaskStatus.OPEN)
    if wanted:
        stale = stale.exclude(origin=wanted)
    note = (_("Converted into a customer.") if lead.status == LeadStatus.CONVERTED
            else _("Judged again: %(man)s.") % {"man": lead.man})
    stale.update(status=TaskStatus.DISMISSED if lead.status != LeadStatus.CONVERTED
                 else TaskStatus.DONE, closed_at=timezone.now(), closed_by=by, note=note,
                 updated_at=timezone.now())
    if wanted and not Task.objects.filter(lead=lead, origin=wanted,
                                          status=TaskStatus.OPEN).exists():
        Task.objects.create(lead=lead, assignee=lead.owner, title=str(action.label)[:200],
                            detail=str(action.detail), origin=wanted, reason=lead.man,
                            due_on=today + dt.timedelta(days=action.due_in_days),
                            priority=action.priority, kind=action.kind, created_by=by)


def _follow_owner(lead: Lead) -> None:
    Task.objects.filter(lead=lead, status=TaskStatus.OPEN,
                        origin__startswith=ORIGIN_PREFIX).update(assignee=lead.owner)


@transaction.atomic
def create_lead(user: User, data: Mapping[str, Any], *, owner: User | None = None,
                referrer: Customer | None = None,
                judgements: Mapping[str, tuple[bool | None, str]] | None = None,
                contacts: Iterable[Mapping[str, Any]] = (), today: dt.date | None = None,
                profile: LoyalProfile | None = None, record_event: bool = True,
                ip: str | None = None, via: str = "web") -> Lead:
    """A new lead, in its owner's scope (the creator's unless another is named), with the
    MAN judgements made so far and more contact persons. An import, audited as one event,
    passes `record_event=False`."""
    if not policy.may_create_leads(user):
        raise NotPermitted(_("Your role may not create leads."))
    _check_fields(data, LEAD_FIELDS)
    owner = owner or user
    if not owner.is_active:
        raise ServiceError(_("The owner must be an active user."), field="owner")
    if not policy.may_assign_owner(user, owner):
        raise NotPermitted(_("You may only give leads to yourself or your team."),
                           field="owner")
    now = timezone.now()
    lead = Lead(owner=owner, team_id=owner.team_id, created_by=user, referrer=referrer,
                **{k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()})
    if not lead.name:
        raise ServiceError(_("Name the lead."), field="name")
    _clean(lead, exclude=["owner", "team", "created_by", "referrer", "customer"])
    _check_referrer(user, lead)
    lead.save()
    _judge(lead, judgements or {}, by=user, at=now)
    for row in contacts:
        _new_contact(lead, row)
    _settle(lead, at=now, profile=profile)
    lead.save()
    _sync_task(lead, by=user, today=today or timezone.localdate())
    if record_event:
        record(user, "lead.create", obj=lead, ip=ip, via=via,
               detail={"lead": lead.pk, "name": lead.name, "man": lead.man,
                       "action": lead.action})
    return lead


def _new_contact(lead: Lead, data: Mapping[str, Any]) -> LeadContact:
    _check_fields(data, CONTACT_FIELDS)
    contact = LeadContact(lead=lead, **{k: (v or "").strip() for k, v in data.items()})
    if not contact.name:
        raise ServiceError(_("Name the contact person."), field="name")
    _clean(contact, exclude=["lead"])
    contact.save()
    return contact


@transaction.atomic
def update_lead(user: User, lead: Lead, data: Mapping[str, Any], *,
                judgements: Mapping[str, tuple[bool | None, str]] | None = None,
                owner: User | None = None, referrer: Customer | None | bool = False,
                expected_version: int | None = None, ip: str | None = None,
                via: str = "web") -> Lead:
    """Change the fields given and judge again; `version` must be the one the user read.
    `referrer=False` leaves the referrer as it is."""
    if not _may_change(user, lead):
        raise NotPermitted(_("You may not change this lead."))
    _check_fields(data, LEAD_FIELDS)
    current = _locked(lead)
    check_version(current, expected_version, _("lead"))
    if current.status == LeadStatus.CONVERTED and (data or judgements):
        raise ServiceError(_("This lead is a customer now: change the customer's card "
                             "instead."))
    for key, value in data.items():
        setattr(current, key, value.strip() if isinstance(value, str) else value)
    referrer_before = current.referrer_id
    if referrer is not False:
        current.referrer = referrer
    if owner is not None and owner.pk != current.owner_id:
        if not owner.is_active:
            raise ServiceError(_("The owner must be an active user."), field="owner")
        if not policy.may_assign_owner(user, owner):
            raise NotPermitted(_("You may only give leads to yourself or your team."),
                               field="owner")
        current.owner, current.team_id = owner, owner.team_id
    if not current.name:
        raise ServiceError(_("Name the lead."), field="name")
    _clean(current, exclude=["owner", "team", "created_by", "referrer", "customer"])
    _check_referrer(user, current, referrer_changed=current.referrer_id != referrer_before)
    now = timezone.now()
    changed = _judge(current, judgements or {}, by=user, at=now)
    _settle(current, at=now)
    current.version += 1
    current._change_reason = _("Changed")
    current.save()
    _follow_owner(current)
    _sync_task(current, by=user, today=timezone.localdate())
    record(user, "lead.judge" if changed else "lead.update", obj=current, ip=ip, via=via,
           detail={"lead": current.pk, "fields": sorted(data), "man": current.man,
                   "action": current.action})
    return current


@transaction.atomic
def judge_lead(user: User, lead: Lead, judgements: Mapping[str, tuple[bool | None, str]], *,
               expected_version: int | None = None, ip: str | None = None,
               via: str = "web") -> Lead:
    """Judge money, authority and need (each yes, no, or None for not known), each with why."""
    return update_lead(user, lead, {}, judgements=judgements,
                       expected_version=expected_version, ip=ip, via=via)


@transaction.atomic
def add_lead_contact(user: User, lead: Lead, data: Mapping[str, Any], *, ip: str | None = None,
                     via: str = "web") -> LeadContact:
    if not _may_change(user, lead):
        raise NotPermitted(_("You may not change this lead."))
    current = _locked(lead)
    if current.status == LeadStatus.CONVERTED:
        raise ServiceError(_("This lead is a customer now: add the contact on the "
                             "customer's card."))
    contact = _new_contact(current, data)
    record(user, "lead.update", obj=current, ip=ip, via=via,
           detail={"lead": current.pk, "contact": contact.name})
    return contact


@transaction.atomic
def convert_lead(user: User, lead: Lead, *, expected_version: int | None = None,
                 ip: str | None = None, via: str = "web") -> Customer:
    """The qualified lead becomes a customer in state target, owned by the lead's owner,
    with every contact person of the lead, in one step. The lead stays, linked to the
    customer, with its judgements and source; its open task closes; apps above sales hear
    of it (analytics records a referral)."""
    if not _may_change(user, lead):
        raise NotPermitted(_("You may not change this lead."))
    current = _locked(lead)
    check_version(current, expected_version, _("lead"))
    if current.status == LeadStatus.CONVERTED:
        raise ServiceError(_("This lead was converted already."))
    if current.action == man.STOP:
        raise ServiceError(_("By the MAN rule (m+a+n) this lead is not a customer: stop "
                             "contact instead of converting it."))
    if current.action == man.JUDGE:
        raise ServiceError(_("Judge money, authority and need before converting the lead."))
    data = {"name": current.name, "industry": current.industry,
            "province": current.province, "city": current.city, "size": current.size,
            "website": current.website}
    customer = customer_services.create_customer(user, data, owner=current.owner,
                                                 state=LifecycleState.TARGET, ip=ip, via=via)
    people = []
    if current.contact_name:
        people.append({"name": current.contact_name, "title": current.contact_title,
                       "phone": current.phone, "email": current.email, "is_primary": True})
    people += [{"name": c.name, "title": c.title, "phone": c.phone, "email": c.email}
               for c in current.contacts.all()]
    for person in people:
        customer_services.create_contact(user, customer, person, ip=ip, via=via)
    now = timezone.now()
    current.customer = customer
    current.status = LeadStatus.CONVERTED
    current.converted_at = now
    current.version += 1
    current._change_reason = _("Converted into a customer")
    current.save()
    _sync_task(current, by=user, today=timezone.localdate())
    record(user, "lead.convert", obj=current, customer_id=customer.pk, ip=ip, via=via,
           detail={"lead": current.pk, "customer": customer.pk, "source": current.source,
                   "contacts": len(people)})
    lead_converted.send(sender=Lead, lead=current, customer=customer, user=user, ip=ip,
                        via=via)
    return customer
