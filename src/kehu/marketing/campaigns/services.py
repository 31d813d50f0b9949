"""Writes to target lists and campaigns: create, change (with the version read), freeze a
list, launch and finish a campaign. Each is one transaction and audited.

Launching reaches the list's members once: each member is held out or contacted by the
campaign's seed (kehu.marketing.campaigns.holdout); the contacted get the campaign's e-mail
through the one send service (kehu.marketing.consent, which checks consent at send time) or,
in a personal-selling campaign, become a task for their owner on the workbench.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.audit.services import record
from kehu.core import policy
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.versions import check_version
from kehu.marketing.campaigns import criteria as criteria_module
from kehu.marketing.campaigns import holdout, selectors
from kehu.marketing.campaigns.models import (
    Campaign,
    CampaignContact,
    CampaignKind,
    CampaignStatus,
    Channel,
    ContactGroup,
    ContactOutcome,
    ListKind,
    TargetList,
    TargetListMember,
)
from kehu.marketing.consent.sending import start_bulk_send
from kehu.tasks.models import Task, TaskKind, TaskStatus
from kehu.tasks.services import NewTask, open_tasks

LIST_FIELDS = ("name", "description")
CAMPAIGN_FIELDS = ("name", "kind", "goal", "budget", "cost", "starts_on", "ends_on",
                   "channels", "holdout_percent", "attribution_days", "subject", "message")
# What may still change once a campaign is launched: who was reached and how is history.
AFTER_LAUNCH = frozenset({"name", "goal", "budget", "cost", "ends_on", "attribution_days"})
CHUNK = 2000
# What the send service records a campaign's e-mails under (MarketingSend.origin).
SEND_ORIGIN = selectors.SEND_ORIGIN
TASK_DUE_DAYS = 14


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


def _owner(user: User, owner: User | None) -> User:
    owner = owner or user
    if not owner.is_active:
        raise ServiceError(_("The owner must be an active user."), field="owner")
    if not policy.may_assign_owner(user, owner) or not policy.may_run_campaigns(owner):
        raise NotPermitted(_("Choose as owner yourself or a member of your team who runs "
                             "campaigns."), field="owner")
    return owner


def _may_change(user: User, obj) -> None:
    if not policy.may_change_campaign(user, obj.owner_id, obj.team_id):
        raise NotPermitted(_("You may not change this %(what)s.")
                           % {"what": obj._meta.verbose_name})


def _freeze_members(owner: User, target_list: TargetList) -> int:
    """Store the members of the list's filter now, in the owner's scope."""
    ids = list(selectors.matching(owner, target_list.criteria).values_list("pk", flat=True))
    for i in range(0, len(ids), CHUNK):
        TargetListMember.objects.bulk_create(
            [TargetListMember(target_list=target_list, customer_id=c)
             for c in ids[i:i + CHUNK]], ignore_conflicts=True)
    return len(ids)


# Target lists ----------------------------------------------------------------------------

@transaction.atomic
def create_target_list(user: User, data: Mapping[str, Any], *, criteria: Mapping[str, Any],
                       kind: str = ListKind.DYNAMIC, owner: User | None = None,
                       ip: str | None = None, via: str = "web") -> TargetList:
    """A new target list: dynamic (the filter is saved, members are whoever matches when
    the list is read) or frozen now (the members matching now are stored)."""
    if not policy.may_run_campaigns(user):
        raise NotPermitted(_("Your role may not make target lists."))
    _check_fields(data, LIST_FIELDS)
    if kind not in ListKind.values:
        raise ServiceError(_("Choose dynamic or frozen."), field="kind")
    owner = _owner(user, owner)
    target_list = TargetList(owner=owner, team_id=owner.team_id, created_by=user, kind=kind,
                             criteria=criteria_module.clean(criteria),
                             **{k: (v.strip() if isinstance(v, str) else v)
                                for k, v in data.items()})
    if not target_list.name:
        raise ServiceError(_("Name the list."), field="name")
    _clean(target_list, exclude=["owner", "team", "created_by", "criteria"])
    target_list.save()
    stored = None
    if kind == ListKind.FROZEN:
        target_list.frozen_at = timezone.now()
        target_list.save(update_fields=["frozen_at"])
        stored = _freeze_members(owner, target_list)
    record(user, "target_list.create", obj=target_list, ip=ip, via=via,
           detail={"target_list": target_list.pk, "name": target_list.name, "kind": kind,
                   "criteria": target_list.criteria, "members": stored})
    return target_list


@transaction.atomic
def update_target_list(user: User, target_list: TargetList, data: Mapping[str, Any], *,
                       criteria: Mapping[str, Any] | None = None,
                       expected_version: int | None = None, ip: str | None = None,
                       via: str = "web") -> TargetList:
    """Change the name, the description and (of a dynamic list) the filter; `version`
    must be the one the user read."""
    _may_change(user, target_list)
    _check_fields(data, LIST_FIELDS)
    current = TargetList.objects.select_for_update().get(pk=target_list.pk)
    check_version(current, expected_version, _("target list"))
    for key, value in data.items():
        setattr(current, key, value.strip() if isinstance(value, str) else value)
    if criteria is not None:
        cleaned = criteria_module.clean(criteria)
        if current.kind == ListKind.FROZEN and cleaned != current.criteria:
            raise ServiceError(_("A frozen list keeps the members it had when it was frozen: "
                                 "make a new list for another filter."), field="criteria")
        current.criteria = cleaned
    if not current.name:
        raise ServiceError(_("Name the list."), field="name")
    _clean(current, exclude=["owner", "team", "created_by", "criteria"])
    current.version += 1
    current._change_reason = _("Changed")
    current.save()
    record(user, "target_list.update", obj=current, ip=ip, via=via,
           detail={"target_list": current.pk, "fields": sorted(data),
                   "criteria": current.criteria})
    return current


@transaction.atomic
def freeze_target_list(user: User, target_list: TargetList, *,
                       expected_version: int | None = None, ip: str | None = None,
                       via: str = "web") -> TargetList:
    """Store a dynamic list's members as they are now; it no longer follows its filter."""
    _may_change(user, target_list)
    current = TargetList.objects.select_for_update().get(pk=target_list.pk)
    check_version(current, expected_version, _("target list"))
    if current.kind == ListKind.FROZEN:
        raise ServiceError(_("This list is frozen already."))
    current.kind = ListKind.FROZEN
    current.frozen_at = timezone.now()
    current.version += 1
    current._change_reason = _("Frozen")
    current.save()
    stored = _freeze_members(current.owner, current)
    record(user, "target_list.freeze", obj=current, ip=ip, via=via,
           detail={"target_list": current.pk, "members": stored})
    return current


# Campaigns -------------------------------------------------------------------------------

def _normalise(data: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in data.items():
        if isinstance(value, str) and key not in ("budget", "cost"):
            value = value.strip()
        if key == "channels":
            if not isinstance(value, list | tuple):
                raise ServiceError(_("Choose the channels from the list."), field="channels")
            unknown = [c for c in value if c not in Channel.values]
            if unknown:
                raise ServiceError(_("Unknown channel: %(channel)s.")
                                   % {"channel": str(unknown[0])[:30]}, field="channels")
            value = [c for c in Channel.values if c in value]
        if key in ("budget", "cost") and value is not None and value != "":
            try:
                value = Decimal(str(value))
            except ArithmeticError:
                raise ServiceError(_("Enter an amount."), field=key) from None
        if key == "cost" and value == "":
            value = None
        out[key] = value
    return out


def _check_campaign(campaign: Campaign, user: User) -> None:
    if not campaign.name:
        raise ServiceError(_("Name the campaign."), field="name")
    _clean(campaign, exclude=["owner", "team", "created_by", "target_list", "launched_by",
                              "seed"])
    if campaign.ends_on and campaign.ends_on < campaign.starts_on:
        raise ServiceError(_("The campaign cannot end before it starts."), field="ends_on")
    if campaign.target_list_id and not selectors.target_lists(user).filter(
            pk=campaign.target_list_id).exists():
        raise ServiceError(_("Choose a target list you may see."), field="target_list")
    if Channel.EMAIL in campaign.channels and campaign.kind != CampaignKind.PERSONAL_SELLING \
            and not (campaign.subject and campaign.message):
        raise ServiceError(_("An e-mail campaign needs a subject and a message."),
                           field="subject" if not campaign.subject else "message")


@transaction.atomic
def create_campaign(user: User, data: Mapping[str, Any], *,
                    target_list: TargetList | None = None, owner: User | None = None,
                    ip: str | None = None, via: str = "web") -> Campaign:
    """A new campaign, a draft until it is launched; its hold-out seed is drawn now."""
    if not policy.may_run_campaigns(user):
        raise NotPermitted(_("Your role may not run campaigns."))
    _check_fields(data, CAMPAIGN_FIELDS)
    owner = _owner(user, owner)
    campaign = Campaign(owner=owner, team_id=owner.team_id, created_by=user,
                        target_list=target_list, seed=holdout.new_seed(), **_normalise(data))
    _check_campaign(campaign, user)
    campaign.save()
    record(user, "campaign.create", obj=campaign, ip=ip, via=via,
           detail={"campaign": campaign.pk, "name": campaign.name, "kind": campaign.kind,
                   "target_list": campaign.target_list_id})
    return campaign


@transaction.atomic
def update_campaign(user: User, campaign: Campaign, data: Mapping[str, Any], *,
                    target_list: TargetList | None | bool = False,
                    expected_version: int | None = None, ip: str | None = None,
                    via: str = "web") -> Campaign:
    """Change the fields given (`target_list=False` leaves the list as it is); once the
    campaign is launched only its name, goal, budget, cost, end and attribution window
    may change. `version` must be the one the user read."""
    _may_change(user, campaign)
    _check_fields(data, CAMPAIGN_FIELDS)
    current = Campaign.objects.select_for_update().get(pk=campaign.pk)
    check_version(current, expected_version, _("campaign"))
    data = _normalise(data)
    if current.status != CampaignStatus.DRAFT:
        frozen = sorted(k for k, v in data.items()
                        if k not in AFTER_LAUNCH and getattr(current, k) != v)
        if frozen or (target_list is not False and target_list != current.target_list):
            raise ServiceError(_("The campaign has been launched: whom it reached and how "
                                 "can no longer change."),
                               field=frozen[0] if frozen else "target_list")
    for key, value in data.items():
        setattr(current, key, value)
    if target_list is not False:
        current.target_list = target_list
    _check_campaign(current, user)
    current.version += 1
    current._change_reason = _("Changed")
    current.save()
    record(user, "campaign.update", obj=current, ip=ip, via=via,
           detail={"campaign": current.pk, "fields": sorted(data)})
    return current


def _email_recipients(user: User, campaign: Campaign, customer_ids: list[int]) -> list[int]:
    """Hand the contacted customers' e-mail to the send service as a background job; it
    checks each one's consent as it sends and records every send on the card. Returns the
    ids handed over."""
    subject = campaign.subject or campaign.name
    start_bulk_send(user, [[c, None] for c in customer_ids], subject=subject,
                    body=campaign.message or subject, origin=SEND_ORIGIN,
                    origin_id=campaign.pk,
                    title=_("Campaign e-mail: %(name)s") % {"name": campaign.name})
    return customer_ids


@transaction.atomic
def launch_campaign(user: User, campaign: Campaign, *, expected_version: int | None = None,
                    today: dt.date | None = None, ip: str | None = None,
                    via: str = "web") -> Campaign:
    """Reach the target list's members (of the launcher's scope) once: the hold-out group
    is recorded and gets nothing; the others get the campaign's e-mail (through the send
    service, which checks consent as it sends), or, in a personal-selling campaign, a
    task for their owner; other channels are recorded as reached."""
    _may_change(user, campaign)
    current = Campaign.objects.select_for_update().get(pk=campaign.pk)
    check_version(current, expected_version, _("campaign"))
    if current.status != CampaignStatus.DRAFT:
        raise ServiceError(_("This campaign has been launched already."))
    if current.target_list_id is None:
        raise ServiceError(_("Choose the target list before launching."), field="target_list")
    if not current.channels:
        raise ServiceError(_("Choose at least one channel before launching."),
                           field="channels")
    now = timezone.now()
    today = today or timezone.localdate()
    ids = list(selectors.members(user, current.target_list).order_by("pk")
               .values_list("pk", flat=True))
    if not ids:
        raise ServiceError(_("The target list has no customer in your scope."),
                           field="target_list")
    held = {c for c in ids if holdout.is_held_out(current.seed, c, current.holdout_percent)}
    treated = [c for c in ids if c not in held]
    personal = current.kind == CampaignKind.PERSONAL_SELLING
    emailed = set() if personal or Channel.EMAIL not in current.channels else set(treated)
    outcome = ContactOutcome.TASK if personal else ContactOutcome.REACHED
    rows = [CampaignContact(campaign=current, customer_id=c, contacted_at=now,
                            group=ContactGroup.HOLDOUT if c in held else ContactGroup.TREATED,
                            outcome=(ContactOutcome.HELD_OUT if c in held
                                     else ContactOutcome.SENT if c in emailed else outcome))
            for c in ids]
    for i in range(0, len(rows), CHUNK):
        CampaignContact.objects.bulk_create(rows[i:i + CHUNK])
    opened = 0
    if personal and treated:
        owners = dict(selectors.scope(user).filter(pk__in=treated)
                      .values_list("pk", "owner_id"))
        title = (current.subject or current.name)[:200]
        opened = open_tasks([NewTask(customer_id=c, assignee_id=owners.get(c), title=title,
                                     origin=current.task_origin,
                                     reason=_("Campaign: %(name)s") % {"name": current.name},
                                     due_on=today + dt.timedelta(days=TASK_DUE_DAYS),
                                     detail=current.message, kind=TaskKind.VISIT
                                     if Channel.VISIT in current.channels else TaskKind.CALL
                                     if Channel.PHONE in current.channels else TaskKind.TODO)
                             for c in treated], by=user)
        tasks = dict(Task.objects.filter(origin=current.task_origin, status=TaskStatus.OPEN,
                                         customer_id__in=treated)
                     .values_list("customer_id", "pk"))
        links = []
        for contact in CampaignContact.objects.filter(campaign=current,
                                                      group=ContactGroup.TREATED):
            contact.task_id = tasks.get(contact.customer_id)
            links.append(contact)
        CampaignContact.objects.bulk_update(links, ["task"], batch_size=CHUNK)
    handed = _email_recipients(user, current, sorted(emailed)) if emailed else []
    current.status = CampaignStatus.RUNNING
    current.launched_at = now
    current.launched_by = user
    current.version += 1
    current._change_reason = _("Launched")
    current.save()
    record(user, "campaign.launch", obj=current, ip=ip, via=via,
           detail={"campaign": current.pk, "members": len(ids), "held_out": len(held),
                   "contacted": len(treated), "tasks": opened, "emails": len(handed)})
    return current


@transaction.atomic
def finish_campaign(user: User, campaign: Campaign, *, expected_version: int | None = None,
                    ip: str | None = None, via: str = "web") -> Campaign:
    """End a running campaign: its open tasks are withdrawn; its results stay."""
    _may_change(user, campaign)
    current = Campaign.objects.select_for_update().get(pk=campaign.pk)
    check_version(current, expected_version, _("campaign"))
    if current.status != CampaignStatus.RUNNING:
        raise ServiceError(_("Only a running campaign can be finished."))
    withdrawn = Task.objects.filter(origin=current.task_origin, status=TaskStatus.OPEN).update(
        status=TaskStatus.DISMISSED, closed_at=timezone.now(), closed_by=user,
        note=_("The campaign has finished."), updated_at=timezone.now())
    current.status = CampaignStatus.FINISHED
    current.ends_on = current.ends_on or timezone.localdate()
    current.version += 1
    current._change_reason = _("Finished")
    current.save()
    record(user, "campaign.finish", obj=current, ip=ip, via=via,
           detail={"campaign": current.pk, "tasks_withdrawn": withdrawn})
    return current
