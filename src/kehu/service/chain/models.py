"""The settings of the service–profit chain: one row (pk=1), edited by admins."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["ChainSettings"]

# Seed 000: "every complaint received means 20 more customers who feel the same".
DEFAULT_SILENT_FACTOR = 20


class ChainSettings(models.Model):
    silent_factor = models.PositiveSmallIntegerField(
        _("silent dissatisfied customers per complaint"), default=DEFAULT_SILENT_FACTOR,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("The service dashboard estimates the dissatisfied customers who never "
                    "complain as complaints × this factor (20: for every complaint, twenty "
                    "more customers feel the same)."))
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("last changed by"))

    class Meta:
        verbose_name = _("service–profit chain settings")
        verbose_name_plural = _("service–profit chain settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> ChainSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj
