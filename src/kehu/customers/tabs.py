"""The card's own tabs: the four groups of facts, contacts, transactions and history
(kehu.customers.card explains how other apps add theirs)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Sum
from django.http import HttpRequest
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import Team, User
from kehu.customers import card, selectors
from kehu.customers.forms import CARD_GROUPS, visible_customer_fields
from kehu.customers.models import SENSITIVE_CUSTOMER_FIELDS, Customer
from kehu.customers.search import sort_key

TAB_ROWS = 200  # rows a transactions or activities tab shows at first, newest first
ALL_TAB_ROWS = 5000  # and when asked for all


def rows_shown(request: HttpRequest) -> int:
    """How many rows a long tab shows: the first ones, or all when asked (?show=all)."""
    return ALL_TAB_ROWS if request.GET.get("show") == "all" else TAB_ROWS


def shown(limit: int, count: int) -> dict:
    """What a long tab says under its table (customers/_shown.html)."""
    return {"rows": min(limit, count), "of": count, "more": count > limit,
            "can_show_all": count > limit and limit < ALL_TAB_ROWS}


def display(customer: Customer, name: str):
    field = Customer._meta.get_field(name)
    value = getattr(customer, name)
    if field.choices and value:
        return getattr(customer, f"get_{name}_display")()
    if isinstance(value, Decimal):
        return number_format(value, decimal_pos=2, force_grouping=True)
    return value


def _facts(fields: tuple[str, ...]):
    def context(request: HttpRequest, customer: Customer) -> dict:
        visible = set(visible_customer_fields(request.user))
        sensitive = set(SENSITIVE_CUSTOMER_FIELDS)
        return {"rows": [
            {"label": Customer._meta.get_field(n).verbose_name, "value": display(customer, n),
             "sensitive": n in sensitive}
            for n in fields if n in visible]}
    return context


def _contacts(request: HttpRequest, customer: Customer) -> dict:
    # A customer's few contacts: the primary first, then by name in pinyin order.
    contacts = selectors.contacts(request.user).filter(customer=customer)
    return {"contacts": sorted(contacts, key=lambda c: (not c.is_primary,
                                                        sort_key(c.name, person=True), c.pk))}


def _transactions(request: HttpRequest, customer: Customer) -> dict:
    txns = selectors.transactions(request.user).filter(customer=customer)
    limit = rows_shown(request)
    totals = txns.aggregate(amount=Sum("amount"), cost=Sum("cost"), count=Count("pk"))
    amount, cost = totals["amount"] or Decimal("0"), totals["cost"] or Decimal("0")
    return {"transactions": txns.prefetch_related("lines__product")[:limit],
            "totals": {"amount": amount, "cost": cost, "profit": amount - cost,
                       "count": totals["count"]},
            "shown": shown(limit, totals["count"])}


def _history_value(field, value, users: dict):
    if value in (None, "") or field is None:
        return value
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if field.name == "owner":
        return users.get(value, value)
    if field.name == "team":
        team = Team.objects.filter(pk=value).first()
        return team.name if team else value
    return value


def _history(request: HttpRequest, customer: Customer) -> dict:
    entries = selectors.change_history(request.user, customer)
    by_label = {str(f.verbose_name): f for f in Customer._meta.concrete_fields}
    user_ids = set()
    for entry in entries:
        for change in entry["changes"]:
            field = by_label.get(str(change["field"]))
            change["model_field"] = field
            if field is not None and field.name == "owner":
                user_ids |= {change["old"], change["new"]}
    users = {u.pk: str(u) for u in User.objects.filter(pk__in=[i for i in user_ids if i])}
    for entry in entries:
        for change in entry["changes"]:
            field = change.pop("model_field")
            change["old"] = _history_value(field, change["old"], users)
            change["new"] = _history_value(field, change["new"], users)
    return {"changes": entries, "transitions": selectors.lifecycle_history(request.user, customer),
            "owners": selectors.owner_history(request.user, customer)}


def register() -> None:
    for order, (key, label, fields) in enumerate(CARD_GROUPS, start=1):
        card.add_tab(card.Tab(key, label, order * 10, "customers/tabs/_facts.html",
                              _facts(fields)))
    card.add_tab(card.Tab("contacts", _("Contacts"), 50, "customers/tabs/_contacts.html",
                          _contacts))
    card.add_tab(card.Tab("transactions", _("Transactions"), 60,
                          "customers/tabs/_transactions.html", _transactions))
    card.add_tab(card.Tab("history", _("History"), 100, "customers/tabs/_history.html",
                          _history))
