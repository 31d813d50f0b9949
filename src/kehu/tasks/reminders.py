"""E-mail reminders of tasks that fall due (`kehu remind`, from cron).

Each open task whose due day has come is mailed to its assignee once: the TaskReminder row
that says so is written in the same transaction as the e-mail is handed to the mail server,
so that a run that fails to send leaves no row (the next run tries again) and a task is
never reminded twice, however often the command runs. The e-mail is in the site's language
(kehu stores no language per user)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from kehu.audit.services import record
from kehu.tasks.models import Task, TaskReminder, TaskStatus


@dataclass
class Reminded:
    sent: int = 0
    no_address: int = 0
    failed: int = 0


def due_unreminded(today: dt.date) -> list[Task]:
    """Open tasks due today or earlier, for an active person, not yet reminded."""
    return list(Task.objects.filter(
        status=TaskStatus.OPEN, due_on__lte=today, assignee__isnull=False,
        assignee__is_active=True, reminder__isnull=True,
    ).select_related("customer", "lead", "assignee").order_by("assignee_id", "due_on", "id"))


def _message(task: Task, today: dt.date) -> EmailMessage:
    site = settings.KEHU_SITE_URL.rstrip("/")
    context = {"task": task, "today": today, "overdue": task.due_on < today,
               "workbench_url": site + reverse("workbench:home"),
               "card_url": site + task.about_url}
    subject = render_to_string("tasks/email/reminder_subject.txt", context).strip()
    body = render_to_string("tasks/email/reminder.txt", context)
    return EmailMessage(" ".join(subject.split()), body, settings.DEFAULT_FROM_EMAIL,
                        [task.assignee.email])


def send_reminders(today: dt.date | None = None) -> Reminded:
    """Mail every task that has fallen due and was not reminded yet; each one at most once."""
    today = today or timezone.localdate()
    out = Reminded()
    with translation.override(settings.LANGUAGE_CODE):
        for task in due_unreminded(today):
            if not task.assignee.email:
                out.no_address += 1
                continue
            try:
                with transaction.atomic():
                    TaskReminder.objects.create(task=task, user=task.assignee,
                                                address=task.assignee.email)
                    _message(task, today).send()
                    record(None, "task.remind", obj=task, via="cli",
                           detail={"to": task.assignee.username,
                                   "due": task.due_on.isoformat()})
            except IntegrityError:
                continue  # a run beside this one reminded it a moment ago
            except OSError:
                out.failed += 1  # the mail server: the next run tries again
                continue
            out.sent += 1
    return out
