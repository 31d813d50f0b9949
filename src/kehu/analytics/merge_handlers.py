"""How value records follow a merge of two customers (see kehu.dataio.merge): the scores
are derived and recomputed by the next refresh, snapshots move with their history, and
referrals between the two records disappear with the difference between them."""

from __future__ import annotations

from django.db.models import Q

from kehu.analytics.models import Referral
from kehu.dataio import merge


def _referrals(rel, survivor, loser, user) -> int:
    between = Q(referrer=loser, referred=survivor) | Q(referrer=survivor, referred=loser)
    dropped = Referral.objects.filter(between).delete()[0]
    if rel.field.name == "referred" and Referral.objects.filter(referred=survivor).exists():
        # Both were recorded as referred: the survivor's record of it stands.
        return dropped + Referral.objects.filter(referred=loser).delete()[0]
    return dropped + merge._move(rel, survivor, loser, user)


def register() -> None:
    merge.HANDLERS["analytics.customervalue"] = merge._drop
    merge.HANDLERS["analytics.referral"] = _referrals
