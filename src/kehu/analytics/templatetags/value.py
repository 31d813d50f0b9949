"""{% value_panel customer %}: the value strip on every customer card."""

from __future__ import annotations

from django import template

from kehu.analytics import selectors
from kehu.analytics.models import ValueSettings

register = template.Library()


@register.inclusion_tag("analytics/_value_panel.html")
def value_panel(customer, full=False):
    panel = selectors.panel(customer)
    return {
        "customer": customer, "v": panel.value, "run": panel.refresh, "full": full,
        "spark": selectors.sparkline([clv for _day, clv in panel.trend]),
        "trend": panel.trend, "settings": ValueSettings.current(),
        "stale": selectors.is_stale(panel.refresh) if panel.refresh else False,
        "discount_pct": float(panel.refresh.monthly_discount) * 100 if panel.refresh else 0,
        # BG/NBD holds a customer who bought once alive until they buy again.
        "alive_until_repeat": bool(
            panel.value and panel.value.purchase_days == 1 and panel.refresh
            and ((panel.refresh.fit or {}).get("purchases") or {}).get("model") == "bgnbd"),
    }
