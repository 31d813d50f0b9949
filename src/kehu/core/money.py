"""Money in the firm's currency: one setting (FirmSettings.currency, default CNY) and one
way to write an amount, `format_money`, behind the `money` template filter.

Amounts are shown with the currency's symbol in front and the active language's number
format (grouped by thousands); a negative amount reads "−¥1,234". The API keeps plain
numbers and states the currency code beside them."""

from __future__ import annotations

import threading
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import NamedTuple

from django.core.signals import request_finished, request_started
from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

DEFAULT_CURRENCY = "CNY"
MINUS = "\u2212"


class Currency(NamedTuple):
    code: str
    symbol: str
    decimals: int
    name: object


CURRENCIES: dict[str, Currency] = {c.code: c for c in [
    Currency("CNY", "¥", 2, _("Chinese yuan")),
    Currency("HKD", "HK$", 2, _("Hong Kong dollar")),
    Currency("TWD", "NT$", 0, _("New Taiwan dollar")),
    Currency("MOP", "MOP$", 2, _("Macanese pataca")),
    Currency("USD", "$", 2, _("US dollar")),
    Currency("EUR", "€", 2, _("Euro")),
    Currency("GBP", "£", 2, _("Pound sterling")),
    Currency("JPY", "¥", 0, _("Japanese yen")),
    Currency("KRW", "₩", 0, _("South Korean won")),
    Currency("SGD", "S$", 2, _("Singapore dollar")),
    Currency("AUD", "A$", 2, _("Australian dollar")),
    Currency("CAD", "C$", 2, _("Canadian dollar")),
    Currency("CHF", "CHF ", 2, _("Swiss franc")),
    Currency("INR", "₹", 2, _("Indian rupee")),
    Currency("MYR", "RM", 2, _("Malaysian ringgit")),
    Currency("THB", "฿", 2, _("Thai baht")),
    Currency("VND", "₫", 0, _("Vietnamese dong")),
    Currency("RUB", "₽", 2, _("Russian rouble")),
]}


def currency_choices() -> list[tuple[str, str]]:
    return [(c.code, f"{c.code} {c.symbol.strip()} · {c.name}") for c in CURRENCIES.values()]


# Within a request the currency is read once; outside one (commands, e-mails) each call
# reads the setting, so a change is never missed.
_local = threading.local()


def _request_started(**_kwargs) -> None:
    _local.active, _local.code = True, None


def _request_finished(**_kwargs) -> None:
    _local.active, _local.code = False, None


request_started.connect(_request_started, dispatch_uid="kehu.core.money.started")
request_finished.connect(_request_finished, dispatch_uid="kehu.core.money.finished")


def forget() -> None:
    """Drop the currency read in this request (after the setting changed)."""
    _local.code = None


def _stored_code() -> str:
    from kehu.core.models import FirmSettings

    code = FirmSettings.objects.filter(pk=1).values_list("currency", flat=True).first()
    return code if code in CURRENCIES else DEFAULT_CURRENCY


def firm_currency() -> Currency:
    if getattr(_local, "active", False):
        if _local.code is None:
            _local.code = _stored_code()
        return CURRENCIES[_local.code]
    return CURRENCIES[_stored_code()]


def format_money(amount, decimals: int | None = None, currency: Currency | None = None) -> str:
    """`amount` with the currency's symbol, grouped in the active language's format;
    `decimals` defaults to the currency's minor units. None or "" gives ""."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError, TypeError):
        return str(amount)
    cur = currency or firm_currency()
    places = cur.decimals if decimals is None else min(int(decimals), cur.decimals)
    if value.is_finite():
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    number = formats.number_format(abs(value), places, use_l10n=True, force_grouping=True)
    sign = MINUS if value < 0 else ""
    return f"{sign}{cur.symbol}{number}"


def money_heading(label) -> str:
    """A column heading naming the currency: "CLV (CNY)"."""
    return gettext("%(label)s (%(code)s)") % {"label": label, "code": firm_currency().code}
