"""{{ amount|money }} and {{ amount|money:0 }}: an amount in the firm's currency (a builtin
of every template); {% currency_code %} names the currency."""

from __future__ import annotations

from django import template

from kehu.core.money import firm_currency, format_money

register = template.Library()


@register.filter(name="money")
def money(amount, decimals=None):
    return format_money(amount, None if decimals in (None, "") else int(decimals))


@register.simple_tag(name="currency_code")
def currency_code() -> str:
    return firm_currency().code


@register.simple_tag(name="currency_symbol")
def currency_symbol() -> str:
    return firm_currency().symbol.strip()
