"""Whom a privacy officer may find, export and erase."""

from __future__ import annotations

from django.db.models import QuerySet

from kehu.accounts.models import User
from kehu.core.permissions import PRIVACY, restrict
from kehu.customers.models import Customer


def subjects(user: User) -> QuerySet[Customer]:
    """Customers a privacy officer may act on: all of them; nobody else any."""
    return restrict(Customer.objects.all(), user, PRIVACY)
