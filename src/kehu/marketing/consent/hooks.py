"""What consent and referrals add to lower apps: the merge rule for consents, the card's
Consent and Referrals tabs, the consent columns of customer exports (and the value
dashboard's download of a segment's customers with them), and the dashboard's share of new
customers who came by referral."""

from __future__ import annotations


def register() -> None:
    from kehu.analytics import hooks
    from kehu.marketing.consent import card, columns, merging
    from kehu.marketing.referrals import card as referrals_card

    hooks.add_dashboard_figure(referrals_card.referral_figure)
    hooks.add_group_action(columns.export_group)
    merging.register()
    card.register()
    columns.register()
    referrals_card.register()
