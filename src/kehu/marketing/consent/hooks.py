"""What consent and referrals add to lower apps: the merge rule for consents, the card's
Consent and Referrals tabs and the consent columns of customer exports."""

from __future__ import annotations


def register() -> None:
    from kehu.marketing.consent import card, columns, merging
    from kehu.marketing.referrals import card as referrals_card

    merging.register()
    card.register()
    columns.register()
    referrals_card.register()
