"""Tasks: what somebody is to do about a customer, by when, and why.

Every app that turns a finding into work — a stale card, a customer entering a value segment,
a lead's MAN combination, an overdue payment — opens a task here, and every person finds
their work in one list (the workbench). A task made by a rule names the rule (`origin`) and
the figures behind it (`reason`), and at most one task per rule and customer is open at a
time, even when two runs race."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel

# What the rules that open tasks call them, in the reader's language: origin → (title,
# what to do). A rule registers its texts in its app's ready(); a task of an origin not
# listed here shows the title it was saved with (tasks people write, a segment's treatment).
RULE_TEXTS: dict[str, tuple[Any, Any]] = {}


def register_rule(origin: str, title, detail="") -> None:
    RULE_TEXTS[origin] = (title, detail)


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    DISMISSED = "dismissed", _("Dismissed")


class TaskPriority(models.TextChoices):
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Low")


class Task(TimeStampedModel):
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="tasks", verbose_name=_("customer"))
    title = models.CharField(_("task"), max_length=200)
    detail = models.TextField(_("details"), blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="tasks",
                                 verbose_name=_("assigned to"))
    due_on = models.DateField(_("due on"), null=True, blank=True, db_index=True)
    priority = models.CharField(_("priority"), max_length=10, choices=TaskPriority.choices,
                                default=TaskPriority.NORMAL)
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices,
                              default=TaskStatus.OPEN, db_index=True)
    # The rule that made the task ("stale_data", "segment:invest" …), empty for tasks people
    # make; with `reason`, what the rule saw (which figure, which value).
    origin = models.CharField(_("origin"), max_length=40, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+",
                                  verbose_name=_("closed by"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["status", "due_on", "-id"]
        indexes = [models.Index(fields=["assignee", "status", "due_on"]),
                   models.Index(fields=["customer", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "origin"],
                condition=models.Q(status="open") & ~models.Q(origin=""),
                name="tasks_one_open_task_per_origin"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == TaskStatus.OPEN

    @property
    def shown_title(self) -> str:
        texts = RULE_TEXTS.get(self.origin)
        return str(texts[0]) if texts else self.title

    @property
    def shown_detail(self) -> str:
        texts = RULE_TEXTS.get(self.origin)
        return str(texts[1]) if texts and texts[1] else self.detail
