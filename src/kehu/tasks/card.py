"""The customer's tasks on their data card (kehu.customers.card)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kehu.core.permissions import CHANGE, CONTRIBUTE, can
from kehu.customers import card
from kehu.customers.tabs import rows_shown, shown
from kehu.tasks import selectors
from kehu.tasks.forms import TaskForm
from kehu.tasks.services import may_close


def _tasks(request: HttpRequest, customer) -> dict:
    limit = rows_shown(request)
    tasks = selectors.tasks_of_customer(request.user, customer)
    rows = list(tasks[:limit])
    may_change = can(request.user, CHANGE, customer)
    for task in rows:
        task.may_close = task.is_open and may_close(request.user, task,
                                                    may_change_customer=may_change)
    ctx = {"tasks": rows, "shown": shown(limit, tasks.count())}
    if can(request.user, CONTRIBUTE, customer):
        ctx.setdefault("task_form", TaskForm(user=request.user))
    return ctx


def register() -> None:
    card.add_tab(card.Tab("tasks", _("Tasks"), 75, "tasks/_tasks_tab.html", _tasks))
