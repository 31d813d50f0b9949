"""Credit control in the demo: credit limits and payment terms for a set of buying customers,
their receivables with some overdue in every ageing bucket, payments (some of them late,
some partial), a few credit incidents (late payment, dumping below price, selling outside
their territory) and orders that took a customer over its limit. Deterministic: its own
random generator, the same customers in either language."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from kehu.accounts.models import User
from kehu.customers import invariants
from kehu.customers import services as customer_services
from kehu.customers.models import Customer, TransitionSource
from kehu.sales.credit import services as credit
from kehu.sales.credit.models import IncidentKind, PaymentMethod

SEED = 12_003
# Every how-many-th buying customer gets a credit file, at most MOST of them; and a few of
# the customers won lately (external ids NB…), whose new orders go over their limit.
EVERY = 25
MOST = 60
NEW_OVER_LIMIT = 4
# Days past due of the open overdue invoice of the n-th customer, one per ageing bucket in turn.
OVERDUE_DAYS = (12, 45, 75, 130, 20, 50, 80, 200)

TEXT = {
    "zh-hans": {
        "reason": "演示数据：信用额度与账期",
        "notes": "演示应收账款",
        "order": "年度备货",
        "incidents": [
            (IncidentKind.LATE_PAYMENT, "货款逾期两个月未付，催收后分两次结清。",
             "催款函 CF-2024-017"),
            (IncidentKind.DUMPING, "在本地市场以低于出厂价的价格倾销，扰乱价格体系。",
             "市场巡查报告 MR-0412，附门店价签照片"),
            (IncidentKind.OUTSIDE_TERRITORY, "将货物窜货至华北区域销售，被当地经销商投诉。",
             "经销商投诉单 TS-2291"),
        ],
    },
    "en": {
        "reason": "Demo data: credit limit and payment terms",
        "notes": "Demo receivable",
        "order": "Annual stock order",
        "incidents": [
            (IncidentKind.LATE_PAYMENT, "Invoice two months overdue; settled in two payments "
             "after reminders.", "Reminder letter CF-2024-017"),
            (IncidentKind.DUMPING, "Sold below our list price in the local market, undercutting "
             "other dealers.", "Market inspection report MR-0412, with shelf price photos"),
            (IncidentKind.OUTSIDE_TERRITORY, "Resold goods into the North region outside their "
             "territory; a local dealer complained.", "Dealer complaint TS-2291"),
        ],
    },
}


def _amount(rng: random.Random) -> Decimal:
    return Decimal(rng.randrange(8, 120) * 100)


def load_credit(customers: list[Customer], users: dict[str, User], language: str) -> int:
    """Give every EVERY-th customer with purchases a credit file; returns how many
    receivables were made."""
    rng = random.Random(SEED)
    text = TEXT[language]
    admin = users["admin"]
    today = timezone.localdate()
    buyers = [c for c in customers if c.trading_since is not None]
    new = [c for c in buyers if (c.external_id or "").startswith("NB")][:NEW_OVER_LIMIT]
    chosen = [c for c in buyers[::EVERY] if c not in new][:MOST] + new
    terms = [rng.choice((30, 30, 45, 60, 90)) for _c in chosen]
    limits = [Decimal(rng.randrange(10, 60) * 1000) for _c in chosen]
    locked = Customer.objects.select_for_update().in_bulk([c.pk for c in chosen])
    invariants.apply([(locked[c.pk], {"payment_terms_days": t, "credit_limit": lim})
                      for c, t, lim in zip(chosen, terms, limits, strict=True)],
                     by=admin, reason=text["reason"], source=TransitionSource.IMPORT)
    made = 0
    for n, customer in enumerate(chosen):
        customer = locked[customer.pk]
        days = terms[n]
        # Paid invoices over the last year: about one in three late, some in two payments.
        for k in range(rng.randrange(3, 7)):
            issued = today - dt.timedelta(days=rng.randrange(days + 20, 380))
            r = credit.create_receivable(admin, customer, issued_on=issued, amount=_amount(rng),
                                         number=f"INV-{customer.pk}-{k + 1}",
                                         notes=text["notes"], via="system")
            late = rng.random() < 0.35
            paid_on = min(today, r.due_on + dt.timedelta(
                days=rng.randrange(5, 70) if late else -rng.randrange(0, days)))
            paid_on = max(paid_on, r.issued_on)
            if late and rng.random() < 0.5:
                first = (r.amount / 2).quantize(Decimal("1"))
                credit.record_payment(admin, r, paid_on=max(r.issued_on, paid_on -
                                                            dt.timedelta(days=20)),
                                      amount=first, method=PaymentMethod.TRANSFER,
                                      reference=f"BANK-{r.pk}-1", via="system")
                credit.record_payment(admin, r, paid_on=paid_on, amount=r.amount - first,
                                      method=PaymentMethod.TRANSFER,
                                      reference=f"BANK-{r.pk}-2", via="system")
            else:
                credit.record_payment(admin, r, paid_on=paid_on, amount=r.amount,
                                      method=rng.choice(list(PaymentMethod.values)[:3]),
                                      reference=f"BANK-{r.pk}", via="system")
            made += 1
        # One invoice not yet due, and one overdue in the bucket of this customer's turn
        # (partly paid for every other customer).
        r = credit.create_receivable(admin, customer, issued_on=today - dt.timedelta(days=5),
                                     amount=_amount(rng), number=f"INV-{customer.pk}-8",
                                     notes=text["notes"], via="system")
        past_due = OVERDUE_DAYS[n % len(OVERDUE_DAYS)]
        due = today - dt.timedelta(days=past_due)
        r = credit.create_receivable(admin, customer, issued_on=due - dt.timedelta(days=days),
                                     due_on=due, amount=_amount(rng),
                                     number=f"INV-{customer.pk}-9", notes=text["notes"],
                                     via="system")
        if n % 2:
            credit.record_payment(admin, r, paid_on=today - dt.timedelta(days=past_due // 2),
                                  amount=(r.amount / 4).quantize(Decimal("1")),
                                  method=PaymentMethod.ACCEPTANCE, reference=f"BA-{r.pk}",
                                  via="system")
        made += 2
        if n < len(text["incidents"]):
            kind, description, evidence = text["incidents"][n]
            credit.record_credit_incident(admin, customer, kind=kind,
                                          occurred_on=today - dt.timedelta(days=30 + 40 * n),
                                          description=description, evidence=evidence,
                                          via="system")
        if customer in new:
            # A large order on top of what is open: flagged over the credit limit.
            customer_services.create_transaction(
                admin, customer, date=today - dt.timedelta(days=1),
                number=f"SO-CREDIT-{customer.pk}", via="system",
                lines=[{"description": text["order"], "quantity": "1",
                        "unit_price": str(customer.credit_limit)}])
    # The owners get their tasks to collect what is overdue, as the daily check would.
    credit.open_overdue_tasks(today)
    return made
