"""{% value_panel customer %}: the value strip on every customer card."""

from __future__ import annotations

import datetime as dt

from django import template

from kehu.analytics import selectors
from kehu.analytics.models import ValueSettings

register = template.Library()


@register.inclusion_tag("analytics/_value_panel.html", takes_context=True)
def value_panel(context, customer, full=False):
    panel = selectors.panel(context["user"], customer)
    value, run = panel.value, panel.refresh
    return {
        "customer": customer, "v": panel.value, "run": panel.refresh, "full": full,
        "spark": sparkline([clv for _day, clv in panel.trend]),
        "trend": panel.trend, "settings": ValueSettings.current(),
        "stale": selectors.is_stale(panel.refresh) if panel.refresh else False,
        "discount_pct": float(panel.refresh.monthly_discount) * 100 if panel.refresh else 0,
        # Current value is over the 12 months to the refresh's day (the day a year before
        # excluded), as the refresh sums it.
        "window_from": run.as_of - dt.timedelta(days=364) if run else None,
        "margin_pct": value.margin * 100 if value and value.margin is not None else 0,
        "cost_per_purchase": (value.cost_to_serve / value.purchase_days
                              if value and value.purchase_days else 0),
        # BG/NBD holds a customer who bought once alive until they buy again: the refresh
        # takes their P(alive) from MBG/NBD instead.
        "alive_until_repeat": bool(
            panel.value and panel.value.purchase_days == 1 and panel.refresh
            and ((panel.refresh.fit or {}).get("purchases") or {}).get("model") == "bgnbd"),
    }


def sparkline(points: list[float], width: int = 120, height: int = 28) -> str:
    """An SVG polyline's points for a small trend line (empty below two points)."""
    if len(points) < 2:
        return ""
    low, high = min(points), max(points)
    span = (high - low) or 1.0
    step = width / (len(points) - 1)
    return " ".join(f"{i * step:.1f},{height - 2 - (p - low) / span * (height - 4):.1f}"
                    for i, p in enumerate(points))


TABLE_ROWS = 200  # a table on a page shows this many rows; its CSV has them all


@register.filter(name="table_body")
def table_body(table: dict):
    """The rows of a dashboard table (its first TABLE_ROWS) as table rows: numbers right-
    aligned, the money columns with the currency, a missing figure as a dash. Built here in
    one pass rather than cell by cell in the template: the value matrix alone has 200 rows."""
    from django.template.defaultfilters import floatformat
    from django.utils.formats import localize
    from django.utils.html import conditional_escape
    from django.utils.safestring import mark_safe

    from kehu.core.money import format_money

    money = table.get("money") or ()
    out = []
    for row in table["rows"][:TABLE_ROWS]:
        out.append("<tr>")
        for i, c in enumerate(row):
            numeric = i > 0 and floatformat(c, "-2") != ""
            text = "—" if c is None else format_money(c) if i in money else localize(c)
            out.append('<td class="num">' if numeric else "<td>")
            out.append(conditional_escape(text))
            out.append("</td>")
        out.append("</tr>")
    return mark_safe("".join(out))  # noqa: S308 — every cell's text is escaped above
