"""Turning one cell of an import file into a field value, or a reason why it cannot be one.

A cleaner is built once per column from the model field, then called for every row, so the
per-row work is a few comparisons and one conversion.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.dataio import normalise
from kehu.dataio.imports.mapping import CHOICE_SYNONYMS, header_key


class CellError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


Cleaner = Callable[[Any], Any]

_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                   r"(?:[ T]+(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?(?:\.\d+)?)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TRUE = {"1", "true", "yes", "y", "是", "有", "对", "√", "✓", "x"}
_FALSE = {"0", "false", "no", "n", "否", "无", "不", "×"}


def text(value: Any) -> str:
    """A cell as text: numbers typed into a spreadsheet come back without a trailing .0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return normalise.unguard_formula(str(value).strip())


def parse_date(value: Any) -> dt.date:
    if isinstance(value, str):
        # The two shapes ERP exports use, without the regex: a million rows notice.
        try:
            if len(value) == 8 and value.isdigit():
                return _plausible(dt.date(int(value[:4]), int(value[4:6]), int(value[6:])),
                                  value)
            if len(value) == 10 and value[4] == value[7] and value[4] in "-/.":
                return _plausible(dt.date(int(value[:4]), int(value[5:7]), int(value[8:])),
                                  value)
        except ValueError:
            pass
    elif isinstance(value, dt.datetime):
        return _plausible(value.date(), value.date())
    elif isinstance(value, dt.date):
        return _plausible(value, value)
    raw = text(value)
    if not raw.isascii():
        raw = normalise.halfwidth(raw)
    match = _DATE.match(raw) or _COMPACT_DATE.match(raw)
    if match:
        try:
            day = dt.date(int(match[1]), int(match[2]), int(match[3]))
            if match.re is _DATE and match[4] is not None:
                dt.time(int(match[4]), int(match[5]), int(match[6] or 0))  # 25:00 is no time
            return _plausible(day, raw)
        except ValueError:
            pass
    raise CellError(_("“%(value)s” is not a date; write it as 2024-03-31, 20240331 or "
                      "2024/03/31.") % {"value": raw})


FIRST_YEAR, LAST_YEAR = 1900, 2100


def _plausible(day: dt.date, raw: Any) -> dt.date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise CellError(_("“%(value)s” is not a plausible date: the year must be between "
                          "%(first)d and %(last)d.")
                        % {"value": raw, "first": FIRST_YEAR, "last": LAST_YEAR})
    return day


def parse_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        result = value
    elif isinstance(value, dt.date):
        result = dt.datetime.combine(value, dt.time())
    else:
        raw = normalise.halfwidth(text(value))
        match = _DATE.match(raw) or _COMPACT_DATE.match(raw)
        try:
            if not match:
                raise ValueError(raw)
            parts = [int(p) if p else 0 for p in match.groups()]
            parts += [0] * (6 - len(parts))
            result = dt.datetime(*parts[:6])
        except ValueError:
            raise CellError(_("“%(value)s” is not a date and time; write it as "
                              "2024-03-31 14:30.") % {"value": raw}) from None
    _plausible(result.date(), value)
    if timezone.is_naive(result):
        result = timezone.make_aware(result)
    return result


_PLAIN_NUMBER = re.compile(r"-?\d{1,30}(?:\.(\d{0,30}))?")


def parse_decimal(value: Any, max_digits: int, decimal_places: int) -> Decimal:
    if value.__class__ is str and (plain := _PLAIN_NUMBER.fullmatch(value)):
        # The shape of nearly every cell in an ERP export ("1234.50"): its decimal places
        # and size are read off the text, a million rows notice the difference.
        places = len(plain[1] or "")
        if places > decimal_places:
            raise CellError(_("“%(value)s” has more than %(places)d decimal places.")
                            % {"value": value, "places": decimal_places})
        number = Decimal(value)
        if number and number.adjusted() >= max_digits - decimal_places:
            raise CellError(_("“%(value)s” is too large.") % {"value": value})
        return number
    if isinstance(value, bool):
        raise CellError(_("“%(value)s” is not a number.") % {"value": value})
    if isinstance(value, int | float):
        try:
            number = Decimal(repr(value))
        except InvalidOperation:
            raise CellError(_("“%(value)s” is not a number.") % {"value": value}) from None
        # A spreadsheet's binary fractions (0.1 + 0.2) are rounded to what it displays.
        if number.is_finite():
            number = round(number, decimal_places)
    else:
        number = _parse_number_text(str(value))
    if not number.is_finite():
        raise CellError(_("“%(value)s” is not a number.") % {"value": value})
    exponent = number.as_tuple().exponent
    if -exponent > decimal_places:  # type: ignore[operator] - finite, so an int
        raise CellError(_("“%(value)s” has more than %(places)d decimal places.")
                        % {"value": value, "places": decimal_places})
    if abs(number) >= _LIMITS[max_digits - decimal_places]:
        raise CellError(_("“%(value)s” is too large.") % {"value": value})
    return number


_LIMITS = [Decimal(10) ** n for n in range(40)]
_STRICT_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# Thousands separators only where they belong: 1,234,567.89 (never 12,50 or 1,2,3).
_GROUPED_NUMBER = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_MONEY = re.compile(r"([+-]?)\s*[¥$]?\s*([^¥$元]*?)\s*元?")


def _parse_number_text(raw: str) -> Decimal:
    """A number as people type it: 1234.5, 1,234.50, ¥12, 12元, -¥3, full-width digits.
    Anything else is refused rather than guessed at (12,50 is not 1250)."""
    text_ = normalise.halfwidth(raw).strip().replace("￥", "¥")
    text_ = normalise.unguard_formula(text_)  # '-20.00, a negative amount as exported
    if not _STRICT_NUMBER.fullmatch(text_):
        money = _MONEY.fullmatch(text_)
        body = money[2] if money else ""
        if _STRICT_NUMBER.fullmatch(body):
            text_ = money[1] + body
        elif _GROUPED_NUMBER.fullmatch(body):
            text_ = money[1] + body.replace(",", "")
        else:
            raise CellError(_("“%(value)s” is not a number.") % {"value": raw.strip()})
    try:
        return Decimal(text_)
    except InvalidOperation:
        raise CellError(_("“%(value)s” is not a number.") % {"value": raw.strip()}) from None


def parse_int(value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = text(value)
    try:
        number = int(normalise.halfwidth(raw))
    except ValueError:
        raise CellError(_("“%(value)s” is not a whole number.") % {"value": raw}) from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise CellError(_("“%(value)s” is out of range.") % {"value": raw})
    return number


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    key = normalise.halfwidth(text(value)).strip().lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise CellError(_("“%(value)s” is not yes or no (是/否).") % {"value": text(value)})


def choice_lookup(field: models.Field, synonyms_key: str | None = None) -> dict[str, str]:
    """Every accepted spelling of each choice: its value, its labels in English and Chinese,
    and the glossary's Chinese words."""
    lookup: dict[str, str] = {}
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for value, label in field.flatchoices:
                if value == "":
                    continue
                lookup.setdefault(header_key(str(value)), value)
                lookup.setdefault(header_key(str(label)), value)
    for word, value in CHOICE_SYNONYMS.get(synonyms_key or field.name, {}).items():
        lookup.setdefault(header_key(word), value)
    return lookup


def cleaner_for(field: models.Field, synonyms_key: str | None = None) -> Cleaner:
    """A function from a cell to the field's value; empty cells give the field's empty value
    (callers decide whether empty is allowed). A value the card itself would refuse (the
    field's own validators: a founding date next year, a negative credit limit) is refused
    here too, so an import never brings in what an edit could not save."""
    parse = _parser_for(field, synonyms_key)
    checks = list(field._validators)  # the ones the model declares, not the built-in limits
    if not checks:
        return parse

    def clean_and_check(value: Any) -> Any:
        result = parse(value)
        if result is None or result == "":
            return result
        for check in checks:
            try:
                check(result)
            except ValidationError as exc:
                raise CellError(" ".join(exc.messages)) from None
        return result

    return clean_and_check


def _parser_for(field: models.Field, synonyms_key: str | None = None) -> Cleaner:
    if field.choices:
        lookup = choice_lookup(field, synonyms_key)
        allowed = ", ".join(str(label) for value, label in field.flatchoices if value != "")

        def clean_choice(value: Any) -> str:
            raw = text(value)
            try:
                return lookup[header_key(raw)]
            except KeyError:
                raise CellError(_("“%(value)s” is not one of: %(choices)s.")
                                % {"value": raw, "choices": allowed}) from None

        return clean_choice
    if isinstance(field, models.EmailField):
        max_length = field.max_length

        def clean_email(value: Any) -> str:
            address = normalise.email(text(value))
            if len(address) > max_length:
                raise CellError(_("Too long: %(n)d characters, at most %(max)d.")
                                % {"n": len(address), "max": max_length})
            try:
                validate_email(address)
            except ValidationError:
                raise CellError(_("“%(value)s” is not a valid e-mail address.")
                                % {"value": address}) from None
            return address

        return clean_email
    if isinstance(field, models.DateTimeField):
        return parse_datetime
    if isinstance(field, models.DateField):
        return parse_date
    if isinstance(field, models.DecimalField):
        digits, places = field.max_digits, field.decimal_places
        return lambda value: parse_decimal(value, digits, places)
    if isinstance(field, models.BooleanField):
        return parse_bool
    if isinstance(field, models.PositiveSmallIntegerField):
        return lambda value: parse_int(value, 0, 32767)
    if isinstance(field, models.IntegerField):
        return lambda value: parse_int(value)
    if isinstance(field, models.CharField | models.TextField):
        max_length = field.max_length

        def clean_text(value: Any) -> str:
            result = text(value)
            if max_length is not None and len(result) > max_length:
                raise CellError(_("Too long: %(n)d characters, at most %(max)d.")
                                % {"n": len(result), "max": max_length})
            return result

        return clean_text
    raise TypeError(f"no import cleaner for {field!r}")


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
