"""REST endpoints for tasks: the caller's own work list (a manager's team's), a customer's
tasks, adding one, and completing, dismissing or reassigning it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from kehu.audit.services import record, record_list
from kehu.core import policy
from kehu.core.errors import NotPermitted
from kehu.core.pagination import keyset_page
from kehu.core.requests import client_ip
from kehu.core.schemas import (
    MAX_ID,
    Cursor,
    InputSchema,
    QueryParams,
    Text,
    bounded_text,
    errors,
    refuse_unknown_query,
)
from kehu.customers.selectors import get_customer
from kehu.customers.services import record_customer_view
from kehu.tasks import selectors, services
from kehu.tasks.models import Task, TaskKind, TaskPriority, TaskStatus

router = Router(tags=["tasks"])

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


class TaskOut(Schema):
    id: int
    customer: int | None = Field(description="The customer the task is about; null for a task "
                                              "about a lead.")
    customer_name: str = Field(description="The name of the customer, or of the lead.")
    lead: int | None = Field(description="The lead the task is about (before it is a "
                                         "customer); null for a task about a customer.")
    title: str
    detail: str
    assignee: str | None = Field(description="User name of the person the task is for.")
    due: dt.date | None
    priority: str
    kind: str = Field(description="todo, call, visit, meeting or email; visits show on the "
                                  "workbench's week.")
    status: str
    origin: str = Field(description="The rule that made the task; empty for tasks people "
                                    "write.")
    reason: str = Field(description="What the rule saw: which figure, which value.")
    note: str
    created_at: dt.datetime
    closed_at: dt.datetime | None


class TaskPage(Schema):
    items: list[TaskOut]
    next_cursor: str | None
    count: int
    count_is_exact: bool


class TaskListParams(QueryParams):
    status: Literal[("", *TaskStatus.values)] = Field(
        "", description="open, done or dismissed; all when empty.")
    assignee: bounded_text(150) = Field(
        "", description="User name whose tasks to list (managers: their team; admins: "
                        "anybody). Default: the caller.")
    cursor: Cursor = ""
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class TaskIn(InputSchema):
    title: bounded_text(200, min_length=1)
    detail: Text = ""
    due: dt.date | None = None
    priority: Literal[tuple(TaskPriority.values)] = TaskPriority.NORMAL
    kind: Literal[tuple(TaskKind.values)] = TaskKind.TODO
    assignee: bounded_text(150) | None = Field(None, description="User name; the caller if "
                                                                 "left out.")


class TaskPatch(InputSchema):
    status: Literal[TaskStatus.DONE, TaskStatus.DISMISSED] | None = Field(
        None, description="done or dismissed closes the task (dismissing needs a note).")
    note: Text = ""
    assignee: bounded_text(150) | None = Field(None, description="Give the task to this "
                                                                 "user.")


def task_out(task: Task) -> dict[str, Any]:
    return {"id": task.pk, "customer": task.customer_id, "customer_name": task.about.name,
            "lead": task.lead_id,
            "title": task.shown_title, "detail": task.shown_detail,
            "assignee": task.assignee.username if task.assignee else None,
            "due": task.due_on, "priority": task.priority, "kind": task.kind,
            "status": task.status,
            "origin": task.origin, "reason": task.reason, "note": task.note,
            "created_at": task.created_at, "closed_at": task.closed_at}


def _user_named(username: str):
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ValidationError({"assignee": _("No active user “%(name)s”.") % {"name": username}})
    return user


def _audit(request: HttpRequest) -> dict[str, Any]:
    return {"ip": client_ip(request), "via": "api"}


@router.get("/tasks", response={200: TaskPage, **errors(403, 422)})
def list_tasks(request: HttpRequest, params: Query[TaskListParams]):
    """Tasks for the caller, or — for a manager or an admin — for the person named.
    Reading them is recorded in the audit log: one entry naming the customers shown."""
    refuse_unknown_query(request, TaskListParams)
    assignee = request.auth
    if params.assignee and params.assignee != request.auth.username:
        assignee = _user_named(params.assignee)
        if not policy.may_see_tasks_of(request.auth, assignee):
            raise NotPermitted(_("You may not see this person's tasks."), field="assignee")
    qs = selectors.tasks(request.auth).filter(assignee=assignee)
    if params.status:
        qs = qs.filter(status=params.status)
    page = keyset_page(qs, sort="id", descending=True, cursor=params.cursor or None,
                       limit=params.limit)
    record_list(request.auth, "tasks", [t.customer_id for t in page.items if t.customer_id],
                filters=params.model_dump(exclude={"cursor", "limit"}), **_audit(request))
    return {"items": [task_out(t) for t in page.items], "next_cursor": page.next_cursor,
            "count": page.count, "count_is_exact": page.count_is_exact}


@router.get("/tasks/{task_id}", response={200: TaskOut, **errors(404, 422)})
def get_task(request: HttpRequest, task_id: IdPath):
    """One task. Reading it is recorded in the audit log under its customer."""
    task = selectors.tasks(request.auth).get(pk=task_id)
    if task.customer_id:
        record_customer_view(request.auth, task.customer, part="task",
                             detail={"task": task.pk}, **_audit(request))
    else:
        record(request.auth, "lead.view", obj=task.lead, detail={"task": task.pk},
               **_audit(request))
    return task_out(task)


@router.patch("/tasks/{task_id}", response={200: TaskOut, **errors(400, 403, 404, 422)})
def update_task(request: HttpRequest, task_id: IdPath, payload: TaskPatch):
    """Complete, dismiss (with a note saying why) or reassign a task."""
    task = selectors.tasks(request.auth).get(pk=task_id)
    if payload.assignee is not None:
        task = services.reassign_task(request.auth, task, _user_named(payload.assignee),
                                      **_audit(request))
    if payload.status == TaskStatus.DONE:
        task = services.complete_task(request.auth, task, note=payload.note, **_audit(request))
    elif payload.status == TaskStatus.DISMISSED:
        task = services.dismiss_task(request.auth, task, note=payload.note, **_audit(request))
    return task_out(task)


@router.post("/customers/{id}/tasks", response={201: TaskOut, **errors(400, 403, 404, 422)})
def add_task(request: HttpRequest, id: IdPath, payload: TaskIn):
    customer = get_customer(request.auth, id)
    assignee = _user_named(payload.assignee) if payload.assignee else None
    task = services.add_task(request.auth, customer, title=payload.title, detail=payload.detail,
                             assignee=assignee, due_on=payload.due, priority=payload.priority,
                             kind=payload.kind, **_audit(request))
    return Status(201, task_out(task))
