"""Writing key-account plans: each service checks who may, writes in one transaction and
is audited. A plan step is a task on its owner's workbench (kehu.tasks): adding the step
opens the task, editing it updates the open task, deleting it withdraws the task, and the
step is done when its task is."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.audit.services import record
from kehu.core import policy
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.permissions import CHANGE, VIEW, can
from kehu.core.versions import check_version
from kehu.customers.models import Customer
from kehu.sales.models import Competitor
from kehu.sales.plans import selectors
from kehu.sales.plans.models import SHEET_FIELDS, AccountPlan, PlanCompetitor, PlanStep
from kehu.tasks import services as tasks
from kehu.tasks.models import Task, TaskStatus

PLAN_FIELDS = ("situation", "challenges", "strategy", "decision_factors", "objectives",
               "relationship_level", "buying_orientation", "review_on")


def _check_fields(data: Mapping[str, Any], allowed) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ServiceError(_("Unknown field."), field=sorted(unknown)[0])


def _clean(obj, exclude=()) -> None:
    for f in obj._meta.concrete_fields:
        if isinstance(f, models.CharField | models.TextField):
            value = getattr(obj, f.attname)
            if isinstance(value, str):
                setattr(obj, f.attname, value.strip())
    obj.full_clean(exclude=list(exclude), validate_unique=False)


def _may_change(user: User, plan: AccountPlan) -> None:
    if not can(user, CHANGE, plan.customer):
        raise NotPermitted(_("You may not change this customer's account plan."))


def _check_owner(user: User, customer: Customer, owner: User, field: str = "owner") -> None:
    if not policy.may_assign_task(user, owner):
        raise NotPermitted(_("You may make only yourself or, as a manager, a member of your "
                             "team responsible."), field=field)
    if not can(owner, VIEW, customer):
        raise ServiceError(_("%(user)s may not see this customer.") % {"user": owner},
                           field=field)


def _version_up(obj, user: User, reason: str) -> None:
    obj.version += 1
    obj._change_reason = reason
    obj._history_user = user


# The plan ---------------------------------------------------------------------------------

@transaction.atomic
def create_plan(user: User, customer: Customer, data: Mapping[str, Any], *,
                owner: User | None = None, ip: str | None = None,
                via: str = "web") -> AccountPlan:
    """Start the plan of a key account: one the value scores mark as key, or any customer
    of their scope when a manager (or an admin) decides."""
    if not can(user, CHANGE, customer):
        raise NotPermitted(_("You may not change this customer."))
    if not selectors.may_start_plan(user, customer):
        raise NotPermitted(_("This customer is not a key account: the value scores do not "
                             "mark it as one. A manager may make it one by starting its "
                             "plan."))
    _check_fields(data, PLAN_FIELDS)
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    if AccountPlan.objects.filter(customer=customer).exists():
        raise ServiceError(_("This customer already has an account plan."))
    owner = owner or customer.owner
    _check_owner(user, customer, owner)
    plan = AccountPlan(customer=customer, owner=owner, created_by=user, **data)
    _clean(plan, exclude=["customer", "owner", "created_by"])
    plan._change_reason = _("Created")
    plan._history_user = user
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError:
        raise ServiceError(_("This customer already has an account plan.")) from None
    record(user, "plan.create", obj=plan, ip=ip, via=via,
           detail={"key": selectors.key_reason(user, customer) or "designated"})
    return plan


@transaction.atomic
def update_plan(user: User, plan: AccountPlan, data: Mapping[str, Any], *,
                expected_version: int | None, owner: User | None = None,
                ip: str | None = None, via: str = "web") -> AccountPlan:
    _may_change(user, plan)
    _check_fields(data, PLAN_FIELDS)
    current = AccountPlan.objects.select_for_update().select_related("customer").get(
        pk=plan.pk)
    check_version(current, expected_version, _("account plan"))
    changed = [f for f, v in data.items() if getattr(current, f) != v]
    if owner is not None and owner.pk != current.owner_id:
        _check_owner(user, current.customer, owner)
        current.owner = owner
        changed.append("owner")
    if not changed:
        return current
    for f in changed:
        if f != "owner":
            setattr(current, f, data[f])
    _clean(current, exclude=["customer", "owner", "created_by"])
    _version_up(current, user, _("Edited"))
    current.save()
    record(user, "plan.update", obj=current, ip=ip, via=via, detail={"fields": changed})
    return current


# The competitor sheet ---------------------------------------------------------------------

def _competitor_named(name: str) -> Competitor:
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError(_("Name the competitor."), field="new_competitor")
    if len(name) > 200:
        raise ServiceError(_("A competitor's name has at most 200 characters."),
                           field="new_competitor")
    found = Competitor.objects.filter(name__iexact=name).first()
    return found or Competitor.objects.create(name=name)


@transaction.atomic
def add_competitor(user: User, plan: AccountPlan, *, competitor: Competitor | None = None,
                   new_name: str = "", data: Mapping[str, Any] | None = None,
                   ip: str | None = None, via: str = "web") -> PlanCompetitor:
    """Add a competitor to the plan's sheet: one of the firm's list, or a new one by name
    (it joins the list)."""
    _may_change(user, plan)
    data = dict(data or {})
    _check_fields(data, SHEET_FIELDS)
    if competitor is None:
        competitor = _competitor_named(new_name)
    if PlanCompetitor.objects.filter(plan=plan, competitor=competitor).exists():
        raise ServiceError(_("%(name)s is already on this plan's competitor sheet.")
                           % {"name": competitor.name}, field="competitor")
    sheet = PlanCompetitor(plan=plan, competitor=competitor, **data)
    _clean(sheet, exclude=["plan", "competitor"])
    sheet._change_reason = _("Created")
    sheet._history_user = user
    sheet.save()
    record(user, "plan.competitor_add", obj=sheet, customer_id=plan.customer_id, ip=ip,
           via=via, detail={"plan": plan.pk, "competitor": competitor.name})
    return sheet


@transaction.atomic
def update_competitor(user: User, sheet: PlanCompetitor, data: Mapping[str, Any], *,
                      expected_version: int | None, ip: str | None = None,
                      via: str = "web") -> PlanCompetitor:
    _may_change(user, sheet.plan)
    _check_fields(data, SHEET_FIELDS)
    current = PlanCompetitor.objects.select_for_update().select_related("competitor").get(
        pk=sheet.pk)
    check_version(current, expected_version, _("competitor sheet"))
    changed = [f for f, v in data.items() if getattr(current, f) != v]
    if not changed:
        return current
    for f in changed:
        setattr(current, f, data[f])
    _clean(current, exclude=["plan", "competitor"])
    _version_up(current, user, _("Edited"))
    current.save()
    record(user, "plan.competitor_update", obj=current, customer_id=sheet.plan.customer_id,
           ip=ip, via=via, detail={"plan": sheet.plan_id, "fields": changed,
                                   "competitor": current.competitor.name})
    return current


@transaction.atomic
def remove_competitor(user: User, sheet: PlanCompetitor, *, ip: str | None = None,
                      via: str = "web") -> None:
    _may_change(user, sheet.plan)
    record(user, "plan.competitor_remove", obj=sheet, customer_id=sheet.plan.customer_id,
           ip=ip, via=via, detail={"plan": sheet.plan_id, "competitor": sheet.competitor.name})
    sheet._change_reason = _("Deleted")
    sheet._history_user = user
    sheet.delete()


# The action plan --------------------------------------------------------------------------

def _step_task_title(title: str) -> str:
    return title[:200]


def _check_step(title: str, due_on: dt.date | None) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise ServiceError(_("Say what the step is."), field="title")
    if len(title) > 200:
        raise ServiceError(_("A step has at most 200 characters."), field="title")
    if due_on is None:
        raise ServiceError(_("Give the step a due date."), field="due_on")
    return title


@transaction.atomic
def add_step(user: User, plan: AccountPlan, *, title: str, owner: User, due_on: dt.date,
             ip: str | None = None, via: str = "web") -> PlanStep:
    """A step of the action plan; its owner finds it as a task on their workbench."""
    _may_change(user, plan)
    title = _check_step(title, due_on)
    _check_owner(user, plan.customer, owner)
    step = PlanStep(plan=plan, title=title, owner=owner, due_on=due_on)
    step._change_reason = _("Created")
    step._history_user = user
    step.save()
    tasks.open_tasks([tasks.NewTask(customer_id=plan.customer_id, assignee_id=owner.pk,
                                    title=_step_task_title(title), origin=step.origin,
                                    due_on=due_on)], by=user)
    step.task = Task.objects.get(customer_id=plan.customer_id, origin=step.origin,
                                       status=TaskStatus.OPEN)
    step.save(update_fields=["task"])
    record(user, "plan.step_add", obj=step, customer_id=plan.customer_id, ip=ip, via=via,
           detail={"plan": plan.pk, "step": title, "assignee": owner.username,
                   "task": step.task_id})
    return step


@transaction.atomic
def update_step(user: User, step: PlanStep, *, title: str, owner: User, due_on: dt.date,
                expected_version: int | None, ip: str | None = None,
                via: str = "web") -> PlanStep:
    """Change a step; its open task changes with it (a done task stays as it was)."""
    _may_change(user, step.plan)
    title = _check_step(title, due_on)
    current = PlanStep.objects.select_for_update().select_related("plan").get(pk=step.pk)
    check_version(current, expected_version, _("plan step"))
    if owner.pk != current.owner_id:
        _check_owner(user, current.plan.customer, owner)
    changed = [f for f, v in (("title", title), ("owner", owner.pk), ("due_on", due_on))
               if getattr(current, "owner_id" if f == "owner" else f) != v]
    if not changed:
        return current
    current.title, current.owner, current.due_on = title, owner, due_on
    _version_up(current, user, _("Edited"))
    current.save()
    tasks.revise_rule_task(current.plan.customer_id, current.origin,
                           title=_step_task_title(title), assignee_id=owner.pk, due_on=due_on)
    record(user, "plan.step_update", obj=current, customer_id=current.plan.customer_id, ip=ip,
           via=via, detail={"plan": current.plan_id, "fields": changed, "step": title})
    return current


@transaction.atomic
def delete_step(user: User, step: PlanStep, *, ip: str | None = None,
                via: str = "web") -> None:
    """Remove a step; its open task is dismissed, saying why."""
    _may_change(user, step.plan)
    customer_id = step.plan.customer_id
    tasks.withdraw_rule_tasks(customer_id, step.origin, by=user,
                              note=_("The step was removed from the account plan."))
    record(user, "plan.step_delete", obj=step, customer_id=customer_id, ip=ip, via=via,
           detail={"plan": step.plan_id, "step": step.title})
    step._change_reason = _("Deleted")
    step._history_user = user
    step.delete()


@transaction.atomic
def complete_step(user: User, step: PlanStep, *, note: str = "", ip: str | None = None,
                  via: str = "web") -> PlanStep:
    """Mark a step done from the plan: its task is completed (kehu.tasks)."""
    if step.task is None or step.task.status != TaskStatus.OPEN:
        raise ServiceError(_("This step is not open."))
    if not tasks.may_close(user, step.task):
        raise NotPermitted(_("You may not complete this step."))
    tasks.complete_task(user, step.task, note=note, ip=ip, via=via)
    return PlanStep.objects.select_related("task").get(pk=step.pk)
