"""Survey figures in templates: a score with a meter on its scale, the NPS, a share."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def score1(value) -> str:
    """A score with at most one decimal: 4, 4.5."""
    if value is None:
        return "–"
    return f"{float(value):.1f}".removesuffix(".0")


@register.filter
def percent(value) -> str:
    if value is None:
        return "–"
    return f"{100 * float(value):.0f}%"


@register.simple_tag
def score(value, high: int) -> str:
    """The mean on its scale as a figure and a meter; a dash where nobody answered."""
    if value is None:
        return format_html('<span class="muted" title="{}">–</span>', _("no answers"))
    low = 0 if int(high) == 10 else 1
    return format_html('<span class="sv-score"><meter min="{}" max="{}" low="{}" high="{}" '
                       'optimum="{}" value="{}">{}</meter> {}</span>', low, high,
                       low + (high - low) * 0.45, low + (high - low) * 0.75, high,
                       f"{float(value):.2f}", score1(value), score1(value))


@register.simple_tag
def nps(value) -> str:
    """The net promoter score, −100 to 100, signed."""
    if value is None:
        return format_html('<span class="muted" title="{}">–</span>', _("no answers"))
    return format_html('<span class="nps">{}</span>', f"{float(value):+.0f}")
