"""/api/v1/leads: the MAN combination and its action for all eight judgements, scoping,
version checks, conversion."""

from __future__ import annotations

import itertools

import pytest

from kehu.tasks.models import Task, TaskStatus

pytestmark = pytest.mark.django_db

EXPECTED = {
    (True, True, True): ("M+A+N", "pursue"),
    (True, True, False): ("M+A+n", "create_need"),
    (True, False, True): ("M+a+N", "find_authority"),
    (False, True, True): ("m+A+N", "check_credit"),
    (False, False, True): ("m+a+N", "nurture"),
    (False, True, False): ("m+A+n", "nurture"),
    (True, False, False): ("M+a+n", "nurture"),
    (False, False, False): ("m+a+n", "stop"),
}


@pytest.mark.parametrize("money,authority,need", list(itertools.product([True, False],
                                                                         repeat=3)))
def test_post_names_the_combination_and_its_action(api, users, money, authority, need):
    response = api("sales1").post("/leads", {"name": "深圳新客户有限公司", "source": "exhibition",
                                             "money": money, "authority": authority,
                                             "need": need})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["man"], body["action"]) == EXPECTED[(money, authority, need)]
    assert body["id"] and body["owner"] == users["sales1"].pk
    open_tasks = Task.objects.filter(lead_id=body["id"], status=TaskStatus.OPEN)
    if body["action"] == "stop":
        assert not open_tasks.exists()
        assert body["status"] == "disqualified"
    else:
        assert [t.origin for t in open_tasks] == [f"lead:{body['action']}"]
        assert open_tasks.get().assignee == users["sales1"]
        assert body["status"] == "qualified"


def test_an_unjudged_factor_asks_for_judging(api):
    body = api("sales1").post("/leads", {"name": "X", "source": "website", "money": True,
                                         "authority": None, "need": True}).json()
    assert (body["man"], body["action"], body["status"]) == ("M+?+N", "judge", "new")


def test_a_salesperson_cannot_read_anothers_lead(api):
    lead = api("sales1").post("/leads", {"name": "Mine", "source": "website", "money": True,
                                         "authority": True, "need": True}).json()
    assert api("sales2").get(f"/leads/{lead['id']}").status_code == 404
    assert api("sales2").patch(f"/leads/{lead['id']}", {"version": 1,
                                                         "name": "Theirs"}).status_code == 404
    assert lead["id"] not in [x["id"] for x in api("sales2").get("/leads").json()["items"]]
    assert api("manager1").get(f"/leads/{lead['id']}").status_code == 200
    assert api("manager2").get(f"/leads/{lead['id']}").status_code == 404
    assert api("admin").get(f"/leads/{lead['id']}").status_code == 200


def test_rejudging_closes_the_old_task_and_opens_the_new(api):
    lead = api("sales1").post("/leads", {"name": "Y", "source": "website", "money": True,
                                         "authority": False, "need": True}).json()
    assert lead["action"] == "find_authority"
    changed = api("sales1").patch(f"/leads/{lead['id']}", {
        "version": lead["version"], "authority": True,
        "authority_note": "The general manager signs"})
    assert changed.status_code == 200, changed.content
    assert (changed.json()["man"], changed.json()["action"]) == ("M+A+N", "pursue")
    tasks = {t.origin: t.status for t in Task.objects.filter(lead_id=lead["id"])}
    assert tasks == {"lead:find_authority": TaskStatus.DISMISSED,
                     "lead:pursue": TaskStatus.OPEN}
    stale = api("sales1").patch(f"/leads/{lead['id']}", {"version": lead["version"],
                                                          "need": False})
    assert stale.status_code == 409


def test_list_filters_by_queue_and_pages(api):
    for i, (m, a, n) in enumerate(itertools.product([True, False], repeat=3)):
        api("sales1").post("/leads", {"name": f"L{i}", "source": "website", "money": m,
                                      "authority": a, "need": n})
    nurture = api("sales1").get("/leads", action="nurture").json()
    assert nurture["count"] == 3
    assert {x["man"] for x in nurture["items"]} == {"m+a+N", "m+A+n", "M+a+n"}
    first = api("sales1").get("/leads", limit=5).json()
    assert first["count"] == 8 and len(first["items"]) == 5 and first["next_cursor"]
    rest = api("sales1").get("/leads", limit=5, cursor=first["next_cursor"]).json()
    assert len(rest["items"]) == 3
    assert api("sales1").get("/leads", stat="x").status_code == 422


def test_conversion_keeps_every_contact_and_the_source(api, customers):
    from kehu.analytics.models import Referral
    from kehu.customers.models import Customer

    lead = api("sales1").post("/leads", {
        "name": "苏州精工有限公司", "source": "referral", "referrer": customers["east"].pk,
        "money": True, "authority": True, "need": True, "contact_name": "王经理",
        "contact_title": "采购经理", "phone": "0512-1234", "email": "wang@jg.example",
        "contacts": [{"name": "李工", "title": "技术总监"}, {"name": "张总", "title": "总经理"}],
    }).json()
    converted = api("sales1").post(f"/leads/{lead['id']}/convert", {"version": lead["version"]})
    assert converted.status_code == 201, converted.content
    body = converted.json()
    customer = Customer.objects.get(pk=body["customer"])
    assert customer.lifecycle_state == "target"
    assert sorted(customer.contacts.values_list("name", flat=True)) == sorted(
        ["王经理", "李工", "张总"])
    assert customer.contacts.get(is_primary=True).email == "wang@jg.example"
    assert customer.from_lead.source == "referral"
    assert body["status"] == "converted"
    assert Referral.objects.get(referred=customer).referrer == customers["east"]
    assert not Task.objects.filter(lead_id=lead["id"], status=TaskStatus.OPEN).exists()
    again = api("sales1").post(f"/leads/{lead['id']}/convert", {})
    assert again.status_code == 400


def test_a_stopped_lead_is_not_converted(api):
    lead = api("sales1").post("/leads", {"name": "Z", "source": "other", "money": False,
                                         "authority": False, "need": False}).json()
    response = api("sales1").post(f"/leads/{lead['id']}/convert", {})
    assert response.status_code == 400
    assert "m+a+n" in response.json()["detail"]
