"""Loans on the customer data card (kehu.customers.card): a notice above the tabs saying
that the reader has the file on loan, or, to whoever decides on it, who has it now."""

from __future__ import annotations

from django.http import HttpRequest

from kehu.customers import card
from kehu.loans.selectors import card_loans


def _loans(request: HttpRequest, customer) -> dict:
    return card_loans(request.user, customer)


def register() -> None:
    card.add_panel(card.Panel("loans", 0, "loans/_card_notice.html", _loans))
