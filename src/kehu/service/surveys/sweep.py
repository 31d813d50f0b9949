"""The periodic survey of key customers, run by the service sweep: each key customer (one
the value scores mark as key, or one with an account plan) not asked within the survey's
interval is invited to the active key-customer survey."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from kehu.customers.models import Customer, LifecycleState
from kehu.sales.plans.keys import key_reasons
from kehu.sales.plans.models import AccountPlan
from kehu.service.surveys.services import invite_key_customers


def key_customer_ids() -> set[int]:
    current = Customer.objects.exclude(lifecycle_state__in=[LifecycleState.CHURNED,
                                                            LifecycleState.NON_CUSTOMER])
    return set(key_reasons(current)) | set(
        AccountPlan.objects.filter(customer__in=current).values_list("customer_id", flat=True))


def survey_key_customers(now: dt.datetime) -> int:
    """How many key customers were invited."""
    return invite_key_customers(timezone.localdate(now), key_customer_ids())
