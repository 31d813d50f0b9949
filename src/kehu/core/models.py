"""Abstract bases every app shares."""

from typing import Self

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class VersionedModel(TimeStampedModel):
    """A record edited by people: the version lets a stale save be refused instead of
    silently overwriting somebody else's change."""

    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        abstract = True


class OneRowSettings(models.Model):
    """An app's settings: one row (pk=1) an admin edits, made with its defaults when first
    read, and who changed it last."""

    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("last changed by"))

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> Self:
        return cls.objects.get_or_create(pk=1)[0]


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Job(models.Model):
    """Long work (an import, a duplicate scan, a value refresh) run in the background by
    `kehu worker`; see kehu.core.jobs for how to start one and report progress. This row is
    what users see of a job; the task queue's own row (task_id) only gets it to a worker."""

    kind = models.CharField(_("kind"), max_length=50, db_index=True)
    title = models.CharField(_("title"), max_length=200)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("started by"), null=True,
                             blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=JobStatus.choices,
                              default=JobStatus.QUEUED, db_index=True)
    done = models.BigIntegerField(_("done"), default=0)
    total = models.BigIntegerField(_("total"), null=True, blank=True)
    message = models.CharField(_("message"), max_length=300, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    # host:pid:token of the process running the job, so that a job whose process died can
    # be told from one that is merely slow.
    runner = models.CharField(max_length=200, blank=True)
    # The queued task (django_tasks_db's DBTaskResult) that runs the job in a worker; none
    # for a job run in the foreground by a command.
    task_id = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return max(0, min(100, int(self.done * 100 / self.total)))


class FirmSettings(models.Model):
    """Settings of the whole firm that every app shows; one row (pk=1), edited by admins.
    Read it through `kehu.core.money.firm_currency()`."""

    currency = models.CharField(_("currency"), max_length=3, default="CNY",
                                help_text=_("The currency every amount is shown in."))

    class Meta:
        verbose_name = _("firm settings")
        verbose_name_plural = _("firm settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
