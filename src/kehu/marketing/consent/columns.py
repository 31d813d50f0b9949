"""The consent columns of customer exports (kehu.dataio.exports): for each channel and use,
the customer's own answer ("given", "refused", or empty when never asked), in the one query
of the export."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kehu.dataio.exports.services import Column, ExtraColumns, add_columns
from kehu.marketing.consent.models import CHANNELS, USES, Channel, Consent, ConsentStatus

LABELS = dict(ConsentStatus.choices)


def _attr(channel: str) -> str:
    return f"consent_{channel}"


def _annotate(queryset: QuerySet) -> QuerySet:
    return queryset.annotate(**{_attr(ch): Subquery(
        Consent.objects.filter(customer=OuterRef("pk"), contact__isnull=True, channel=ch)
        .values("status")[:1]) for ch in (*CHANNELS, *USES)})


def _column(channel: str) -> Column:
    attr = _attr(channel)
    label = format_lazy(_("consent: {channel}"), channel=Channel(channel).label)
    return Column(attr, label, lambda c: str(LABELS.get(getattr(c, attr, None), "")))


def _columns(user) -> list[Column]:
    return [_column(ch) for ch in (*CHANNELS, *USES)]


def register() -> None:
    add_columns(ExtraColumns("marketing.consent", "customers", _columns, _annotate))


def export_group(user, field: str, key: str) -> tuple[str, str] | None:
    """The value dashboard's download of a segment's (or quadrant's) customers: the
    customer export, which carries the consent columns, filtered to the group."""
    from urllib.parse import urlencode

    from django.urls import reverse
    from django.utils.translation import gettext

    from kehu.core import policy

    if not policy.may_export(user):
        return None
    query = urlencode({"what": "customers", "format": "csv", field: key})
    return (gettext("Download its customers with their consent (CSV)"),
            f"{reverse('dataio:export_download')}?{query}")
