"""Field checks that keep impossible facts off a card: a company founded next year, a
representative born in 3000, a negative credit limit."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

EARLIEST_BIRTH_YEAR = 1900

not_negative = MinValueValidator(0, message=_("Must not be negative."))


def not_in_future(value) -> None:
    if value is not None and value > timezone.localdate():
        raise ValidationError(_("Must not be later than today."), code="future")


def plausible_birth_year(value) -> None:
    if value is None:
        return
    this_year = timezone.localdate().year
    if not EARLIEST_BIRTH_YEAR <= value <= this_year:
        raise ValidationError(
            _("Enter a year between %(first)d and %(last)d."),
            code="birth_year", params={"first": EARLIEST_BIRTH_YEAR, "last": this_year})
