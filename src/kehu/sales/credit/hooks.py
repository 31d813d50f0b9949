"""Where credit control joins the rest of kehu, called from SalesConfig.ready(): the card's
tab and panel, the flag on every new order or invoice, and the daily overdue check."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kehu.customers.signals import transaction_recorded
from kehu.sales import sweeps
from kehu.sales.credit import services, tabs


def _flag(sender, transaction, user, **kwargs) -> None:
    services.flag_transaction(user, transaction)


def register() -> None:
    tabs.register()
    transaction_recorded.connect(_flag, dispatch_uid="credit.flag_transaction")
    sweeps.register(sweeps.Sweep("overdue_receivables",
                                 _("Tasks to collect overdue receivables"),
                                 services.open_overdue_tasks))
