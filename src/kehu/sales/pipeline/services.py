"""Writes to the pipeline: opportunities, their moves between stages, the stages, the
pipeline's settings and the firm's competitors. Each function is one transaction, checks who
may do it, and is audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.audit.services import record
from kehu.core import policy
from kehu.core.errors import NotPermitted, ServiceError, StaleVersion
from kehu.core.permissions import CHANGE, VIEW, can
from kehu.sales.credit.services import flag_opportunity
from kehu.sales.models import Competitor
from kehu.sales.pipeline.models import (
    LostReason,
    Opportunity,
    PipelineSettings,
    Stage,
    StageChange,
    StageKind,
)
from kehu.tasks.services import close_rule_tasks

# The rule that asks an owner to follow up an opportunity nobody touched (kehu.tasks
# origin): one per opportunity, so that two stale opportunities of one customer each get
# their own task.
STALE_PREFIX = "opportunity_stale:"

EDITABLE = ("title", "amount", "expected_close", "description", "owner", "products",
            "competitors", "stage", "lost_reason", "lost_note")


def stale_origin(opportunity_id: int) -> str:
    return f"{STALE_PREFIX}{opportunity_id}"


def _check_version(current: Opportunity, expected: int | None) -> None:
    if expected is None or int(expected) == current.version:
        return
    who = str(current.updated_by) if current.updated_by_id else _("someone")
    raise StaleVersion(
        _("This opportunity was changed by %(user)s since you opened it (it is now in "
          "“%(stage)s”). Reload to see their changes, then make yours again.")
        % {"user": who, "stage": current.stage.name},
        current_version=current.version, changed_by=who)


def _check_owner(user, customer, owner) -> None:
    if not policy.may_assign_owner(user, owner):
        raise NotPermitted(_("You may make only yourself or, as a manager, a member of your "
                             "team responsible for an opportunity."), field="owner")
    if not can(owner, VIEW, customer):
        raise ServiceError(_("%(user)s may not see this customer, so cannot be responsible "
                             "for its opportunity.") % {"user": owner}, field="owner")


def _check_closing(stage: Stage, lost_reason: str) -> None:
    if stage.kind == StageKind.LOST and not lost_reason:
        raise ServiceError(_("Say why the opportunity was lost."), field="lost_reason")
    if lost_reason and lost_reason not in LostReason.values:
        raise ServiceError(_("Unknown lost reason."), field="lost_reason")


def _apply_stage(opp: Opportunity, stage: Stage, user, today: dt.date) -> None:
    opp.stage = stage
    if stage.is_closed:
        opp.closed_on = opp.closed_on or today
    else:
        opp.closed_on = None
    if stage.kind != StageKind.LOST:
        opp.lost_reason, opp.lost_note = "", ""


def _full_clean(opp: Opportunity) -> None:
    try:
        opp.full_clean(exclude=["customer", "owner", "stage", "products", "competitors",
                                "updated_by"])
    except ValidationError as e:
        field, messages = next(iter(e.message_dict.items()))
        raise ServiceError(messages[0], field=field) from None


@transaction.atomic
def create_opportunity(user, customer, *, title: str, stage: Stage, amount: Decimal,
                       expected_close: dt.date, owner=None, products: Iterable = (),
                       competitors: Iterable = (), description: str = "",
                       lost_reason: str = "", lost_note: str = "", ip: str | None = None,
                       via: str = "web") -> Opportunity:
    if not can(user, CHANGE, customer):
        raise NotPermitted(_("You may not add opportunities to this customer."))
    if owner is None:
        owner = customer.owner if policy.may_assign_owner(user, customer.owner) else user
    _check_owner(user, customer, owner)
    _check_closing(stage, lost_reason)
    now = timezone.now()
    opp = Opportunity(customer=customer, title=title, stage=stage, amount=amount,
                      expected_close=expected_close, owner=owner, description=description,
                      lost_reason=lost_reason, lost_note=lost_note, touched_at=now,
                      updated_by=user)
    _apply_stage(opp, stage, user, timezone.localdate())
    if stage.kind == StageKind.LOST:
        opp.lost_reason, opp.lost_note = lost_reason, lost_note
    _full_clean(opp)
    opp.save()
    opp.products.set(products)
    opp.competitors.set(competitors)
    StageChange.objects.create(opportunity=opp, from_stage=None, to_stage=stage, by=user)
    record(user, "opportunity.create", obj=opp, ip=ip, via=via,
           detail={"stage": stage.name_en, "amount": str(opp.amount)})
    if stage.kind == StageKind.OPEN:
        flag_opportunity(user, customer, opp.amount, reference=opp.title)
    return opp


def _locked(opp: Opportunity) -> Opportunity:
    return Opportunity.objects.select_for_update(of=("self",)).select_related(
        "stage", "customer", "updated_by").get(pk=opp.pk)


@transaction.atomic
def update_opportunity(user, opp: Opportunity, data: dict[str, Any], *,
                       expected_version: int | None, ip: str | None = None,
                       via: str = "web") -> Opportunity:
    """Change the fields in `data` (any of EDITABLE). A stale `expected_version` is refused,
    naming who changed it; a change of stage is kept in the stage history."""
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise ServiceError(_("Unknown field: %(field)s") % {"field": sorted(unknown)[0]})
    if not can(user, CHANGE, opp.customer):
        raise NotPermitted(_("You may not change this opportunity."))
    current = _locked(opp)
    _check_version(current, expected_version)
    changed: list[str] = []
    old_stage = current.stage
    if "owner" in data and data["owner"] is not None and data["owner"].pk != current.owner_id:
        _check_owner(user, current.customer, data["owner"])
        current.owner = data["owner"]
        changed.append("owner")
    for field in ("title", "amount", "expected_close", "description", "lost_note"):
        if field in data and getattr(current, field) != data[field]:
            setattr(current, field, data[field])
            changed.append(field)
    stage = data.get("stage") or current.stage
    lost_reason = data.get("lost_reason", current.lost_reason) or ""
    if stage.kind == StageKind.LOST:
        _check_closing(stage, lost_reason)
        if lost_reason != current.lost_reason:
            current.lost_reason = lost_reason
            changed.append("lost_reason")
    elif data.get("lost_reason"):
        raise ServiceError(_("Only a lost opportunity has a lost reason."), field="lost_reason")
    if stage.pk != old_stage.pk:
        _apply_stage(current, stage, user, timezone.localdate())
        if stage.kind == StageKind.LOST:
            current.lost_reason = lost_reason
            current.lost_note = data.get("lost_note", current.lost_note)
        changed.append("stage")
    _full_clean(current)
    for field, related in (("products", current.products), ("competitors", current.competitors)):
        if field in data:
            new = {o.pk for o in data[field]}
            if new != set(related.values_list("pk", flat=True)):
                related.set(data[field])
                changed.append(field)
    current.version += 1
    current.touched_at = timezone.now()
    current.updated_by = user
    current.save()
    if "stage" in changed:
        StageChange.objects.create(opportunity=current, from_stage=old_stage, to_stage=stage,
                                   by=user)
    close_rule_tasks(current.customer_id, stale_origin(current.pk), by=user)
    detail: dict[str, Any] = {"fields": changed}
    if "stage" in changed:
        detail.update({"from": old_stage.name_en, "to": stage.name_en})
    record(user, "opportunity.update", obj=current, ip=ip, via=via, detail=detail)
    if "amount" in changed and current.stage.kind == StageKind.OPEN:
        flag_opportunity(user, current.customer, current.amount, reference=current.title)
    return current


@transaction.atomic
def move_opportunity(user, opp: Opportunity, stage: Stage, *, expected_version: int | None,
                     lost_reason: str = "", lost_note: str = "", ip: str | None = None,
                     via: str = "web") -> Opportunity:
    """Put the opportunity in another stage (the board's drag, its buttons and select)."""
    data: dict[str, Any] = {"stage": stage}
    if stage.kind == StageKind.LOST:
        data.update(lost_reason=lost_reason, lost_note=lost_note)
    return update_opportunity(user, opp, data, expected_version=expected_version, ip=ip,
                              via=via)


@transaction.atomic
def delete_opportunity(user, opp: Opportunity, *, ip: str | None = None,
                       via: str = "web") -> None:
    if not can(user, CHANGE, opp.customer):
        raise NotPermitted(_("You may not delete this opportunity."))
    close_rule_tasks(opp.customer_id, stale_origin(opp.pk), by=user)
    record(user, "opportunity.delete", obj=opp, ip=ip, via=via, detail={"name": opp.title})
    opp.delete()


# Stages and settings (admins) ----------------------------------------------------------------

def _admin_only(user) -> None:
    if not policy.may_change_settings(user):
        raise NotPermitted(_("Only an administrator may change the pipeline's stages and "
                             "settings."))


@transaction.atomic
def save_stage(user, stage: Stage | None, *, name_en: str, name_zh: str, order: int,
               probability: int, ip: str | None = None, via: str = "web") -> Stage:
    """Add an open stage (stage None) or change one. The closing stages keep their 100 %
    and 0 %."""
    _admin_only(user)
    if not (name_en or name_zh):
        raise ServiceError(_("Give the stage a name."), field="name_en")
    if not 0 <= int(probability) <= 100:
        raise ServiceError(_("The win probability is a percentage from 0 to 100."),
                           field="probability")
    if stage is None:
        stage = Stage(kind=StageKind.OPEN)
    else:
        stage = Stage.objects.select_for_update().get(pk=stage.pk)
        if stage.is_closed and int(probability) != stage.probability:
            raise ServiceError(_("A won opportunity is certain (100 %) and a lost one is not "
                                 "(0 %): their probability stays."), field="probability")
    stage.name_en, stage.name_zh, stage.order = name_en, name_zh, int(order)
    stage.probability = int(probability)
    stage.save()
    record(user, "pipeline.stage", ip=ip, via=via,
           detail={"name": stage.name_en or stage.name_zh, "status": str(stage.probability)})
    return stage


@transaction.atomic
def delete_stage(user, stage: Stage, *, move_to: Stage | None = None, ip: str | None = None,
                 via: str = "web") -> int:
    """Remove an open stage. Its opportunities must first go to another stage (`move_to`),
    else the deletion is refused saying how many are there. Returns how many moved."""
    _admin_only(user)
    stage = Stage.objects.select_for_update().get(pk=stage.pk)
    if stage.is_closed:
        raise ServiceError(_("The won and lost stages cannot be removed."))
    using = Opportunity.objects.filter(stage=stage)
    count = using.count()
    if count and (move_to is None or move_to.pk == stage.pk):
        raise ServiceError(_("%(count)s opportunities are in the stage “%(stage)s”: choose the "
                             "stage to move them to first.") % {"count": count,
                                                                 "stage": stage.name},
                           field="move_to")
    if count:
        if move_to.is_closed:
            raise ServiceError(_("Move them to an open stage: closing an opportunity as won or "
                                 "lost is a decision about each one."), field="move_to")
        moved = list(using.select_for_update())
        for opp in moved:
            opp.stage = move_to
            opp.version += 1
            opp.updated_by = user
        Opportunity.objects.bulk_update(moved, ["stage", "version", "updated_by"])
        StageChange.objects.bulk_create([StageChange(opportunity=o, from_stage=stage,
                                                     to_stage=move_to, by=user)
                                         for o in moved])
    record(user, "pipeline.stage_delete", ip=ip, via=via,
           detail={"name": stage.name_en or stage.name_zh, "moved": count})
    stage.delete()
    return count


@transaction.atomic
def update_pipeline_settings(user, *, stale_after_days: int, ip: str | None = None,
                             via: str = "web") -> PipelineSettings:
    _admin_only(user)
    if not 1 <= int(stale_after_days) <= 365:
        raise ServiceError(_("Give a number of days from 1 to 365."), field="stale_after_days")
    current = PipelineSettings.objects.select_for_update().get_or_create(pk=1)[0]
    current.stale_after_days = int(stale_after_days)
    current.save()
    record(user, "pipeline.settings", ip=ip, via=via, detail={"days": current.stale_after_days})
    return current


# Competitors (managers and admins) ---------------------------------------------------------

def _competitor_editor(user) -> None:
    if not policy.may_edit_competitors(user):
        raise NotPermitted(_("Only managers and administrators may change the list of "
                             "competitors."))


@transaction.atomic
def save_competitor(user, competitor: Competitor | None, *, name: str, website: str = "",
                    notes: str = "", ip: str | None = None, via: str = "web") -> Competitor:
    _competitor_editor(user)
    name = name.strip()
    if not name:
        raise ServiceError(_("Give the competitor a name."), field="name")
    clash = Competitor.objects.filter(name__iexact=name)
    if competitor is not None:
        clash = clash.exclude(pk=competitor.pk)
    if clash.exists():
        raise ServiceError(_("There is already a competitor named “%(name)s”.")
                           % {"name": name}, field="name")
    competitor = competitor or Competitor()
    competitor.name, competitor.website, competitor.notes = name, website, notes
    try:
        competitor.full_clean()
    except ValidationError as e:
        field, messages = next(iter(e.message_dict.items()))
        raise ServiceError(messages[0], field=field) from None
    competitor.save()
    record(user, "competitor.save", obj=competitor, ip=ip, via=via, detail={"name": name})
    return competitor


@transaction.atomic
def delete_competitor(user, competitor: Competitor, *, ip: str | None = None,
                      via: str = "web") -> None:
    _competitor_editor(user)
    record(user, "competitor.delete", obj=competitor, ip=ip, via=via,
           detail={"name": competitor.name})
    competitor.delete()
