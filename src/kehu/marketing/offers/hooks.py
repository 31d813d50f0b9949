"""Where offers join the rest of kehu, called from MarketingConfig.ready(): the card's
Offers tab and the daily run that builds the lists now due (`kehu sales sweep`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kehu.marketing.offers import services, tabs
from kehu.sales import sweeps


def _build_due(today) -> int:
    return services.build_offer_lists(None, as_of=today).lists


def register() -> None:
    tabs.register()
    sweeps.register(sweeps.Sweep("offer_lists", _("Personalised offer lists now due"),
                                 _build_due))
