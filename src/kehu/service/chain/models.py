"""The settings of the service–profit chain: one row (pk=1), edited by admins."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import OneRowSettings

__all__ = ["ChainSettings"]

# Seed 000: "every complaint received means 20 more customers who feel the same".
DEFAULT_SILENT_FACTOR = 20


class ChainSettings(OneRowSettings):
    silent_factor = models.PositiveSmallIntegerField(
        _("silent dissatisfied customers per complaint"), default=DEFAULT_SILENT_FACTOR,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("The service dashboard estimates the dissatisfied customers who never "
                    "complain as complaints × this factor (20: for every complaint, twenty "
                    "more customers feel the same)."))
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("service–profit chain settings")
        verbose_name_plural = _("service–profit chain settings")

