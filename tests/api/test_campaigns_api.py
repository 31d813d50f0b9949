"""/api/v1/campaigns and /api/v1/target-lists: create, list, read, update, scoped like the
customers they hold, with the exact count and the results against the hold-out group."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_a_list_and_a_campaign_through_the_api(api, users, customers):
    m = api("marketing1")
    made = m.post("/target-lists", {"name": "Shanghai", "kind": "frozen",
                                     "criteria": {"city": "上海"}})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["count"] == 1 and body["kind"] == "frozen" and body["frozen_at"]
    bad = m.post("/target-lists", {"name": "x", "criteria": {"loyalty_min": 80,
                                                            "loyalty_max": 20}})
    assert bad.status_code == 400 and "no customer can match" in bad.content.decode()
    campaign = m.post("/campaigns", {"name": "Spring", "kind": "sales_promotion",
                                     "starts_on": "2026-03-01", "channels": ["post"],
                                     "holdout_percent": 0, "budget": "1000.00",
                                     "target_list": body["id"]})
    assert campaign.status_code == 201, campaign.content
    c = campaign.json()
    assert c["status"] == "draft" and c["results"] is None
    stale = m.patch(f"/campaigns/{c['id']}", {"name": "Summer", "version": 99})
    assert stale.status_code == 409
    renamed = m.patch(f"/campaigns/{c['id']}", {"name": "Summer", "version": c["version"]})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Summer"
    listed = m.get("/campaigns").json()
    assert [x["name"] for x in listed["items"]] == ["Summer"] and listed["count_is_exact"]
    # Another team's manager does not see them; a salesperson of East may not make one.
    assert api("manager2").get(f"/campaigns/{c['id']}").status_code == 404
    assert api("manager2").get("/target-lists").json()["count"] == 0
    refused = api("sales1").post("/campaigns", {"name": "Mine", "kind": "advertising",
                                                "starts_on": "2026-03-01"})
    assert refused.status_code == 403


def test_a_launched_campaign_reads_its_results(api, users, customers):
    from tests.conftest import make_campaigns

    campaign = make_campaigns(users, customers)["east"]["campaign"]
    body = api("marketing1").get(f"/campaigns/{campaign.pk}").json()
    results = body["results"]
    assert body["status"] == "running"
    assert results["contacted"]["customers"] == 1 and results["holdout"]["customers"] == 0
    assert results["conversion_uplift"] is None  # no hold-out group to compare with
    # The customer's own salesperson sees the campaign that reached their customer.
    assert api("sales1").get(f"/campaigns/{campaign.pk}").status_code == 200
    assert api("sales1b").get(f"/campaigns/{campaign.pk}").status_code == 404
