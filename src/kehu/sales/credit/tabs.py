"""Credit on the customer data card: a Credit tab and, when an order or opportunity was
flagged or the customer is over the limit, a panel above the tabs. Both are shown only to
those who see the sensitive tier (policy.may_see_credit); the card records the tab's read."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core import policy
from kehu.core.permissions import CHANGE, can
from kehu.customers import card
from kehu.sales.credit import selectors
from kehu.sales.credit.forms import BUCKET_LABELS, IncidentForm, PaymentForm, ReceivableForm

# A flag stays on the card's panel this long after it was raised.
FLAG_DAYS = 30


def credit_context(request: HttpRequest, customer) -> dict:
    summary = selectors.credit_summary(request.user, customer)
    if summary is None:
        return {}
    ctx = {"credit": summary, "bucket_labels": BUCKET_LABELS,
           "ageing_rows": [(BUCKET_LABELS[code], amount, n)
                           for code, amount, n in summary.ageing]}
    if policy.may_record_credit(request.user) and can(request.user, CHANGE, customer):
        ctx["may_record_credit"] = True
        ctx.setdefault("receivable_form", ReceivableForm(customer=customer))
        ctx.setdefault("incident_form", IncidentForm())
        ctx.setdefault("payment_form", PaymentForm())
    return ctx


def _panel(request: HttpRequest, customer) -> dict:
    if not policy.may_see_credit(request.user):
        return {}
    since = timezone.now() - dt.timedelta(days=FLAG_DAYS)
    flags = list(selectors.credit_flags(request.user).filter(customer=customer,
                                                            created_at__gte=since)[:3])
    check = selectors.credit_check(customer, 0)
    if not flags and not check.over_limit:
        return {}
    return {"credit_panel": {"flags": flags, "check": check}}


def register() -> None:
    card.add_tab(card.Tab("credit", _("Credit"), 65, "sales/credit/_credit_tab.html",
                          credit_context, visible=policy.may_see_credit))
    card.add_panel(card.Panel("credit", 30, "sales/credit/_credit_panel.html", _panel))
