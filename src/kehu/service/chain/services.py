"""Writes of the service–profit chain: its settings, and the tasks for key customers whose
owner changed twice in a year."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.analytics.key_accounts import key_customers
from kehu.audit.services import record
from kehu.core import policy
from kehu.core.errors import NotPermitted, ServiceError, StaleVersion
from kehu.core.permissions import VIEW, customer_filter
from kehu.customers.models import Customer
from kehu.service.chain.continuity import FLAG_WINDOW_DAYS, changes_in_year
from kehu.service.chain.models import ChainSettings
from kehu.tasks.services import NewTask, open_tasks

# The rule that tells the owner of a key customer whose owner changed twice in a year.
CONTINUITY_ORIGIN = "owner_continuity"
TASK_DUE_IN = dt.timedelta(days=14)
CHUNK = 2000


@transaction.atomic
def update_chain_settings(user: User, *, silent_factor: int, version: int | None = None,
                          ip: str | None = None) -> ChainSettings:
    """Set the factor of silent dissatisfied customers per complaint (admins only)."""
    if not policy.may_change_settings(user):
        raise NotPermitted(_("Only administrators may change the service settings."))
    ChainSettings.current()
    current = ChainSettings.objects.select_for_update().get(pk=1)
    if version is not None and int(version) != current.version:
        who = str(current.updated_by) if current.updated_by else _("someone")
        raise StaleVersion(
            _("The service settings were changed by %(user)s since you opened them. Reload "
              "to see their changes, then make yours again.") % {"user": who},
            current_version=current.version, changed_by=who)
    try:
        factor = int(silent_factor)
    except (TypeError, ValueError):
        raise ServiceError(_("Enter a whole number between 1 and 1000."),
                           field="silent_factor") from None
    if not 1 <= factor <= 1000:
        raise ServiceError(_("Enter a whole number between 1 and 1000."),
                           field="silent_factor")
    before = current.silent_factor
    current.silent_factor = factor
    current.version += 1
    current.updated_by = user
    current.save()
    record(user, "service.chain_settings", ip=ip,
           detail={"changes": {"silent_factor": [before, factor]}})
    return current


def _flag(condition: Q, *, by: User | None, now: dt.datetime) -> int:
    changes = changes_in_year(condition, now)
    if not changes:
        return 0
    opened = 0
    ids = sorted(changes)
    due = timezone.localdate() + TASK_DUE_IN
    title = _("Key customer with a changing owner: secure the relationship")
    for start in range(0, len(ids), CHUNK):
        chunk = Customer.objects.filter(pk__in=ids[start:start + CHUNK])
        keys = key_customers(chunk)
        owners = dict(chunk.filter(pk__in=list(keys)).values_list("pk", "owner_id"))
        opened += open_tasks([
            NewTask(customer_id=pk, assignee_id=owners[pk], title=title,
                    origin=CONTINUITY_ORIGIN, due_on=due,
                    reason=_("The owner changed %(n)s times in %(days)s days; key customer: "
                             "%(why)s.") % {"n": changes[pk], "days": FLAG_WINDOW_DAYS,
                                            "why": keys[pk]})
            for pk in sorted(keys)], by=by)
    return opened


@transaction.atomic
def open_continuity_tasks(user: User | None = None, *, now: dt.datetime | None = None,
                          via: str = "cli") -> int:
    """A task for the owner of every key customer whose owner changed at least twice in the
    last twelve months and who has none open: the sweep's catch-up for changes made before
    a customer became key. Given a user (a manager of a team or an admin), only for the
    customers of their own scope. Returns how many tasks were opened."""
    condition = Q()
    if user is not None:
        if not policy.may_manage_team_tasks(user):
            raise NotPermitted(_("Only managers and administrators may give these tasks."))
        condition = customer_filter(user, VIEW, "customer__", loans=False) or Q()
    opened = _flag(condition, by=user, now=now or timezone.now())
    record(user, "service.continuity_tasks", via=via, detail={"created": opened})
    return opened


def owners_changed(sender, customer_ids, user=None, at=None, **kwargs) -> int:
    """A receiver of customers.signals.owners_changed: the second change of a key
    customer's owner within a year opens the owner's task at once."""
    by = user if getattr(user, "pk", None) else None
    return _flag(Q(customer_id__in=list(customer_ids)), by=by, now=at or timezone.now())
