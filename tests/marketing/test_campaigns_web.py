"""The campaign pages: a target list made from a segment with its exact count as the
filter is edited, a campaign planned on it, launched, and its results page."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.analytics.models import CustomerValue, ValueRefresh
from kehu.audit.models import AuditEvent
from kehu.customers.services import create_customer
from kehu.marketing.campaigns.models import Campaign, CampaignContact, TargetList

pytestmark = pytest.mark.django_db


@pytest.fixture
def invest(users):
    run = ValueRefresh.objects.create(as_of=timezone.localdate(), status="done")
    out = []
    for i, owner in enumerate(["sales1", "sales1", "sales1b", "sales2"]):
        c = create_customer(users["admin"], {"name": f"客户 {i}"}, owner=users[owner])
        CustomerValue.objects.create(customer=c, refresh=run, segment="invest",
                                     loyalty_index=50 + 10 * i)
        out.append(c)
    return out


def test_a_campaign_from_a_segment_end_to_end(client, users, invest):
    client.force_login(users["marketing1"])
    page = client.get(reverse("marketing:target_list_create") + "?segment=invest")
    assert page.status_code == 200
    text = page.content.decode()
    # Three of the four are in marketing1's team: the count is exact and scoped.
    assert 'data-count="3"' in text and "Segment: High current, high potential" in text
    count = client.get(reverse("marketing:target_list_count"),
                       {"segment": "invest", "loyalty_min": "55"})
    assert 'data-count="2"' in count.content.decode()
    bad = client.get(reverse("marketing:target_list_count"),
                     {"segment": "invest", "loyalty_min": "80", "loyalty_max": "20"})
    assert "no customer can match" in bad.content.decode()
    saved = client.post(reverse("marketing:target_list_create"), {
        "name": "Investors", "kind": "dynamic", "segment": "invest", "then": "campaign"})
    tl = TargetList.objects.get(name="Investors")
    assert saved.status_code == 302 and saved["Location"].endswith(f"?target_list={tl.pk}")
    form = client.get(saved["Location"])
    assert form.status_code == 200 and f'value="{tl.pk}" selected' in form.content.decode()
    made = client.post(reverse("marketing:campaign_create"), {
        "name": "Spring visit", "kind": "personal_selling", "target_list": tl.pk,
        "starts_on": "2026-03-01", "budget": "500", "channels": ["visit"],
        "holdout_percent": "0", "attribution_days": "30", "subject": "Visit them"})
    assert made.status_code == 302, made.content.decode()[:2000]
    campaign = Campaign.objects.get(name="Spring visit")
    launched = client.post(reverse("marketing:campaign_launch", args=[campaign.pk]),
                           {"version": campaign.version})
    assert launched.status_code == 302
    assert CampaignContact.objects.filter(campaign=campaign).count() == 3
    detail = client.get(reverse("marketing:campaign_detail", args=[campaign.pk]))
    text = detail.content.decode()
    assert detail.status_code == 200 and 'id="results"' in text and "Visit them" in text
    assert AuditEvent.objects.filter(action="campaign.launch").exists()


def test_a_bad_campaign_says_what_is_wrong(client, users, invest):
    client.force_login(users["marketing1"])
    answer = client.post(reverse("marketing:campaign_create"), {
        "name": "Mail", "kind": "advertising", "starts_on": "2026-03-01",
        "ends_on": "2026-02-01", "channels": ["email"], "holdout_percent": "95",
        "attribution_days": "0"})
    assert answer.status_code == 400
    text = answer.content.decode()
    assert "Ensure this value is less than or equal to 90" in text
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("role", ["sales1", "service1", "analyst1"])
def test_roles_that_run_no_campaigns_make_none(client, users, customers, role):
    from tests.conftest import make_campaigns

    make_campaigns(users, customers)
    client.force_login(users[role])
    listed = client.get(reverse("marketing:campaigns")).content.decode()
    assert "New campaign" not in listed
    assert "Campaign for north" not in listed  # another team's, whatever the role
    assert client.get(reverse("marketing:campaign_create")).status_code == 404
    assert client.get(reverse("marketing:target_list_create")).status_code == 404
    assert ">Marketing<" not in client.get(reverse("customers:list")).content.decode()
