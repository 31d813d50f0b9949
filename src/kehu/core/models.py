"""Abstract bases every app shares."""

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
