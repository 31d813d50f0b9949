"""Merging two customers (or two contacts) keeps one answer per person and channel: where
both records have one, the later answer wins and the other's history joins it, so that a
refusal given on either record is never lost by a merge."""

from __future__ import annotations

from kehu.dataio.quality import merge
from kehu.marketing.consent.models import Consent, ConsentChange


def merge_consents(rel, survivor, loser, user) -> int:
    name = rel.field.name  # "customer" or "contact"
    scope = {"contact__isnull": True} if name == "customer" else {}
    kept = {c.channel: c for c in Consent.objects.filter(**{name: survivor}, **scope)}
    for gone in Consent.objects.filter(**{name: loser}, **scope):
        mine = kept.get(gone.channel)
        if mine is None:
            continue
        ConsentChange.objects.filter(consent=gone).update(consent=mine,
                                                          customer_id=mine.customer_id)
        if gone.at > mine.at:
            mine.status, mine.source, mine.at, mine.note = (gone.status, gone.source,
                                                           gone.at, gone.note)
            mine.recorded_by_id = gone.recorded_by_id
            mine.version += 1
            mine.save()
        gone.delete()
    return merge.move_rows(rel, survivor, loser, user)


def register() -> None:
    merge.add_handler("marketing.consent", merge_consents)
