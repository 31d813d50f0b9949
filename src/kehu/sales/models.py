"""Activities: the timeline of notes, calls, visits and e-mails on a customer card."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel


class ActivityKind(models.TextChoices):
    NOTE = "note", _("Note")
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("E-mail")
    TASK = "task", _("Task")


class Activity(TimeStampedModel):
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="activities", verbose_name=_("customer"))
    contact = models.ForeignKey("customers.Contact", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="activities",
                                verbose_name=_("contact"))
    kind = models.CharField(_("kind"), max_length=10, choices=ActivityKind.choices,
                            default=ActivityKind.NOTE)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("details"), blank=True)
    occurred_at = models.DateTimeField(_("when"), db_index=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                               related_name="activities", verbose_name=_("author"))
    # Tasks (kind "task") are to be done by someone by a date; other kinds leave these empty.
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="tasks",
                                    verbose_name=_("assigned to"))
    due_on = models.DateField(_("due on"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("done by"))
    # What created a task automatically ("stale_data": refresh the card), so that a repeated
    # run finds the open one instead of adding another; empty for activities people enter.
    origin = models.CharField(_("origin"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["customer", "occurred_at"]),
                   models.Index(fields=["assigned_to", "done_at"])]
        constraints = [
            # At most one open task of each automatic origin per customer, even when two runs
            # race: the database refuses the second.
            models.UniqueConstraint(
                fields=["customer", "origin"],
                condition=models.Q(done_at__isnull=True) & ~models.Q(origin=""),
                name="sales_one_open_task_per_origin"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_open_task(self) -> bool:
        return self.kind == ActivityKind.TASK and self.done_at is None
