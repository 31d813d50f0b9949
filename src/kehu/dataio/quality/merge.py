"""Merging two records that are one (合并重复客户): the user picks the survivor and, field by
field, which value to keep; everything that pointed at the other record moves to the
survivor; the other record is deleted; history and the audit log say what happened.

What moves is not a hard-coded list: every relation that points at the model is walked
(`move_references`), so records of apps added later (tickets, consents, value scores...)
follow the survivor without touching this module. Change history rows stay as they were (they
describe the past); derived data (duplicate keys and pairs) is dropped and rebuilt by the next
scan; a one-to-one relation that both records have, and no handler for it, refuses the merge
rather than lose one. Before the other record is deleted the merge checks that nothing points
at it any more, so no later relation can be lost to a cascade.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from kehu.accounts.models import User
from kehu.audit.services import record
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.permissions import CHANGE, DELETE, can
from kehu.core.versions import check_version
from kehu.customers import invariants
from kehu.customers.models import (
    CONTACT_FIELDS,
    CUSTOMER_FIELDS,
    SENSITIVE_CONTACT_FIELDS,
    SENSITIVE_CUSTOMER_FIELDS,
    Contact,
    Customer,
    OwnerAssignment,
)

# The values a user chooses between; owner and lifecycle state besides the card's fields.
CUSTOMER_MERGE_FIELDS = (*CUSTOMER_FIELDS, "owner", "lifecycle_state")
CONTACT_MERGE_FIELDS = CONTACT_FIELDS

Handler = Callable[[Any, models.Model, models.Model, User], int]


def _drop(rel, survivor: models.Model, loser: models.Model, user: User) -> int:
    """Derived data about the merged record: rebuilt by the next duplicate scan."""
    deleted, _by_model = rel.related_model._base_manager.filter(
        **{rel.field.name: loser}).delete()
    return deleted


def _close_ownership(rel, survivor: models.Model, loser: models.Model, user: User) -> int:
    """The merged customer's owner periods move along, ended today, so that the survivor's
    owner history stays one owner at a time."""
    OwnerAssignment.objects.filter(customer=loser, ended_at__isnull=True).update(
        ended_at=timezone.now())
    return _move(rel, survivor, loser, user)


def _state_locks(rel, survivor: models.Model, loser: models.Model, user: User) -> int:
    """The merged record's locks on its lifecycle state move along, ended: the survivor
    keeps the state the merge gives it, locked only if it was locked itself."""
    rel.related_model._base_manager.filter(customer=loser, unlocked_at__isnull=True).update(
        unlocked_at=timezone.now(), unlocked_by=user)
    return _move(rel, survivor, loser, user)


def _referrals(rel, survivor: models.Model, loser: models.Model, user: User) -> int:
    """Who brought whom (analytics.Referral): a referral between the two records becomes
    meaningless (one customer cannot refer itself); a customer is referred once, so the
    survivor's own referral wins over the merged record's."""
    from django.db.models import Q

    model = rel.related_model
    model._base_manager.filter(Q(referrer=loser, referred=survivor) |
                               Q(referrer=survivor, referred=loser)).delete()
    if rel.field.name == "referred" and model._base_manager.filter(referred=survivor).exists():
        model._base_manager.filter(referred=loser).delete()
        return 0
    return _move(rel, survivor, loser, user)


def _tasks(rel, survivor: models.Model, loser: models.Model, user: User) -> int:
    """The merged customer's tasks move along; where both have an open task of the same
    rule, the survivor's stays open and the other is closed as a repeat."""
    model = rel.related_model
    origins = model._base_manager.filter(customer=survivor, status="open").exclude(
        origin="").values_list("origin", flat=True)
    model._base_manager.filter(customer=loser, status="open", origin__in=list(origins)).update(
        status="dismissed", closed_at=timezone.now(), closed_by=user,
        note=_("Merged into #%(id)d, which has the same task open") % {"id": survivor.pk})
    return _move(rel, survivor, loser, user)


# Relations that need more than "point it at the survivor", by the related model's label.
HANDLERS: dict[str, Handler] = {
    "dataio.customerkey": _drop,
    "dataio.customerpair": _drop,
    "dataio.contactkey": _drop,
    "dataio.contactpair": _drop,
    "customers.ownerassignment": _close_ownership,
    "customers.statelock": _state_locks,
    # Value scores and their history are recomputed by the next value refresh.
    "analytics.customervalue": _drop,
    "analytics.customervaluesnapshot": _drop,
    "analytics.referral": _referrals,
    "tasks.task": _tasks,
}


def add_handler(label: str, handler: Handler) -> None:
    """A relation of a higher app that needs more than a move (kehu.marketing's consents,
    one per person and channel), registered from that app's AppConfig.ready()."""
    HANDLERS[label] = handler


def move_rows(rel, survivor: models.Model, loser: models.Model, user: User) -> int:
    """The plain move of a relation's rows to the survivor, for a handler that settled its
    conflicts first."""
    return _move(rel, survivor, loser, user)


def _is_history(model: type[models.Model]) -> bool:
    # simple_history's Historical* models carry the record as it was at each change.
    return hasattr(model, "instance_type") and model.__name__.startswith("Historical")


def reverse_relations(model: type[models.Model]) -> list:
    """Every relation that points at `model` (hidden ones included), history excluded."""
    return [f for f in model._meta.get_fields(include_hidden=True)
            if f.auto_created and not f.concrete and f.related_model is not None
            and not _is_history(f.related_model)]


def _move(rel, survivor: models.Model, loser: models.Model, user: User) -> int:
    related = rel.related_model
    name = rel.field.name
    if rel.many_to_many:
        moved = 0
        for obj in related._base_manager.filter(**{name: loser}):
            manager = getattr(obj, name)
            manager.remove(loser)
            manager.add(survivor)
            moved += 1
        return moved
    rows = related._base_manager.filter(**{name: loser})
    if rel.one_to_one and related._base_manager.filter(**{name: survivor}).exists() \
            and rows.exists():
        raise ServiceError(_("Both records have a %(what)s, and only one can be kept; resolve "
                             "that first.") % {"what": related._meta.verbose_name})
    field_names = {f.name for f in related._meta.concrete_fields}
    now = timezone.now()
    if getattr(related._meta, "simple_history_manager_attribute", None):
        # Tracked records get a history row saying that they moved, and who moved them.
        objs = list(rows)
        for obj in objs:
            setattr(obj, name, survivor)
            if "version" in field_names:
                obj.version += 1
            if "updated_at" in field_names:
                obj.updated_at = now
        fields = [name, *(f for f in ("version", "updated_at") if f in field_names)]
        if objs:
            bulk_update_with_history(objs, related, fields, default_user=user,
                                     default_change_reason=_("Moved by a merge"))
        return len(objs)
    changes: dict[str, Any] = {name: survivor}
    if "updated_at" in field_names:
        # Marks the rows as changed since any import that wrote them, so that undoing that
        # import is refused instead of deleting what now belongs to the survivor.
        changes["updated_at"] = now
    if "version" in field_names:
        changes["version"] = F("version") + 1
    return rows.update(**changes)


def move_references(model: type[models.Model], survivor: models.Model, loser: models.Model,
                    user: User) -> dict[str, int]:
    """Point everything that points at `loser` at `survivor`; {model label: rows moved}.
    ServiceError if anything still points at `loser` afterwards."""
    moved: dict[str, int] = {}
    for rel in reverse_relations(model):
        label = rel.related_model._meta.label_lower
        handler = HANDLERS.get(label, _move)
        count = handler(rel, survivor, loser, user)
        if count:
            moved[label] = moved.get(label, 0) + count
    for rel in reverse_relations(model):
        if rel.related_model._base_manager.filter(**{rel.field.name: loser}).exists():
            raise ServiceError(_("Records in %(what)s still point at the record to be merged; "
                                 "nothing was merged.")
                               % {"what": rel.related_model._meta.verbose_name_plural})
    return moved


def _lock_pair(model, a: models.Model, b: models.Model):
    locked = {o.pk: o for o in model.objects.select_for_update().filter(
        pk__in=[a.pk, b.pk]).order_by("pk")}
    if len(locked) != 2:
        raise ServiceError(_("One of the two records no longer exists."))
    return locked[a.pk], locked[b.pk]


def _choices(take: Iterable[str], allowed: tuple[str, ...], sensitive: tuple[str, ...],
             user: User) -> set[str]:
    take = set(take)
    unknown = take - set(allowed)
    if unknown:
        raise ServiceError(_("Unknown field."), field=sorted(unknown)[0])
    if not user.sees_sensitive and take & set(sensitive):
        raise NotPermitted(_("You may not see or change this field."),
                           field=sorted(take & set(sensitive))[0])
    return take


@transaction.atomic
def merge_customers(user: User, survivor: Customer, loser: Customer, *,
                    take_from_loser: Iterable[str] = (), survivor_version: int | None,
                    loser_version: int | None, ip: str | None = None,
                    via: str = "web") -> Customer:
    """Keep `survivor`, with the fields named in `take_from_loser` taken from `loser`; move
    everything of `loser` to it and delete `loser`. Refused if either changed since the user
    loaded them (versions), or if the user may not change the survivor and delete the other."""
    if survivor.pk == loser.pk:
        raise ServiceError(_("A customer cannot be merged with itself."))
    if not can(user, CHANGE, survivor) or not can(user, DELETE, loser):
        raise NotPermitted(_("Merging needs the right to change the customer that stays and "
                             "to delete the one that goes."))
    take = _choices(take_from_loser, CUSTOMER_MERGE_FIELDS, SENSITIVE_CUSTOMER_FIELDS, user)
    keep, gone = _lock_pair(Customer, survivor, loser)
    check_version(keep, survivor_version, _("customer"))
    check_version(gone, loser_version, _("customer"))
    now = timezone.now()
    reason = _("Merged with #%(id)d %(name)s") % {"id": gone.pk, "name": gone.name}
    taken: dict[str, list[Any]] = {}
    for name in sorted(take):
        old, new = getattr(keep, name), getattr(gone, name)
        if old != new:
            taken[name] = [str(old) if old is not None else None,
                           str(new) if new is not None else None]
    moved = move_references(Customer, keep, gone, user)
    values = {name: getattr(gone, name) for name in taken}
    candidate = copy.copy(keep)
    for name, value in values.items():
        setattr(candidate, name, value)
    candidate.full_clean(exclude=["owner", "team"])
    invariants.apply([(keep, values)], by=user, reason=reason, at=now, even_if_unchanged=True)
    gone_pk, gone_name = gone.pk, gone.name
    invariants.remove([gone], by=user, reason=_("Merged into #%(id)d %(name)s")
                      % {"id": keep.pk, "name": keep.name})
    detail = {"survivor": keep.pk, "merged": gone_pk, "merged_name": gone_name,
              "fields_from_merged": sorted(taken), "moved": moved}
    record(user, "customer.merge", obj=keep, ip=ip, via=via, detail=detail)
    # Also under the merged customer's id, so that its audit trail ends with where it went.
    record(user, "customer.merged_into", customer_id=gone_pk, ip=ip, via=via, detail=detail)
    return keep


@transaction.atomic
def merge_contacts(user: User, survivor: Contact, loser: Contact, *,
                   take_from_loser: Iterable[str] = (), survivor_version: int | None,
                   loser_version: int | None, ip: str | None = None,
                   via: str = "web") -> Contact:
    """Like merge_customers, for two contacts; the survivor stays with its customer."""
    if survivor.pk == loser.pk:
        raise ServiceError(_("A contact cannot be merged with itself."))
    if not (can(user, CHANGE, survivor.customer) and can(user, CHANGE, loser.customer)):
        raise NotPermitted(_("You may only merge contacts of customers you may change."))
    take = _choices(take_from_loser, CONTACT_MERGE_FIELDS, SENSITIVE_CONTACT_FIELDS, user)
    keep, gone = _lock_pair(Contact, survivor, loser)
    check_version(keep, survivor_version, _("contact"))
    check_version(gone, loser_version, _("contact"))
    taken = sorted(n for n in take if getattr(keep, n) != getattr(gone, n))
    moved = move_references(Contact, keep, gone, user)
    for name in taken:
        setattr(keep, name, getattr(gone, name))
    keep.full_clean(exclude=["customer"])
    keep.version += 1
    keep._change_reason = _("Merged with #%(id)d %(name)s") % {"id": gone.pk, "name": gone.name}
    keep._history_user = user
    keep.save()
    gone_pk = gone.pk
    gone._change_reason = _("Merged into #%(id)d %(name)s") % {"id": keep.pk, "name": keep.name}
    gone._history_user = user
    gone.delete()
    record(user, "contact.merge", obj=keep, ip=ip, via=via, detail={
        "survivor": keep.pk, "merged": gone_pk, "merged_customer": loser.customer_id,
        "fields_from_merged": taken, "moved": moved})
    return keep
