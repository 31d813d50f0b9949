"""What the campaigns part registers with the apps below it (called from
MarketingConfig.ready()): how a merge of two customers treats their campaign rows, and the
value dashboard's "new campaign from this segment"."""

from __future__ import annotations


def _merge_once(field: str):
    """A merged customer's rows of a list or a campaign move to the survivor, except where
    the survivor is in that list or campaign already (one row per customer there)."""

    def handler(rel, survivor, loser, user) -> int:
        model = rel.related_model
        kept = model._base_manager.filter(customer=survivor).values_list(field, flat=True)
        model._base_manager.filter(customer=loser, **{f"{field}__in": list(kept)}).delete()
        # These rows carry no version or history: pointing them at the survivor is all.
        return model._base_manager.filter(customer=loser).update(customer=survivor)

    return handler


def register() -> None:
    from kehu.analytics import hooks
    from kehu.dataio.quality import merge

    hooks.add_group_action(campaign_from_group)
    merge.HANDLERS["marketing.targetlistmember"] = _merge_once("target_list_id")
    merge.HANDLERS["marketing.campaigncontact"] = _merge_once("campaign_id")


def campaign_from_group(user, field: str, key: str) -> tuple[str, str] | None:
    """The value dashboard's "new campaign from this segment": a target list of the
    segment (or quadrant), its exact count shown, then the campaign."""
    from urllib.parse import urlencode

    from django.urls import reverse
    from django.utils.translation import gettext as _

    from kehu.core import policy

    if not policy.may_run_campaigns(user):
        return None
    label = _("New campaign from this segment") if field == "segment" else _(
        "New campaign from this quadrant")
    return label, f"{reverse('marketing:target_list_create')}?{urlencode({field: key})}"
