"""/api/v1/consents: list, create, read (with history), update with the version read; scoped
like customers."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_consent_round_trip_with_history_and_version(api, customers, children):
    east = customers["east"]
    made = api("service1").post("/consents", {"customer": east.pk, "channel": "email",
                                              "status": "given", "source": "form"})
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["status"], body["allows"], body["version"]) == ("given", True, 1)
    changed = api("marketing1").patch(f"/consents/{body['id']}", {
        "status": "refused", "source": "phone", "note": "No more mail", "version": 1})
    assert changed.status_code == 200, changed.content
    assert changed.json()["allows"] is False
    assert [h["status"] for h in changed.json()["history"]] == ["refused", "given"]
    stale = api("marketing1").patch(f"/consents/{body['id']}", {
        "status": "given", "source": "form", "version": 1})
    assert stale.status_code == 409
    listed = api("manager1").get(f"/consents?customer={east.pk}").json()
    assert [c["id"] for c in listed["items"]] == [body["id"]] and listed["count"] == 1
    use = api("sales1").post("/consents", {
        "customer": east.pk, "contact": children["east"]["contact"].pk,
        "channel": "personalisation", "status": "refused", "source": "in_person"}).json()
    assert (use["contact"], use["allows"]) == (children["east"]["contact"].pk, False)


def test_consents_are_scoped_and_bad_input_is_refused(api, customers, children):
    east, north = customers["east"], customers["north"]
    made = api("sales1").post("/consents", {"customer": east.pk, "channel": "sms",
                                            "status": "given", "source": "form"}).json()
    assert api("sales2").get(f"/consents/{made['id']}").status_code == 404
    assert api("sales2").get("/consents").json()["count"] == 0
    assert api("sales1").post("/consents", {"customer": north.pk, "channel": "sms",
                                            "status": "given", "source": "form"}
                              ).status_code == 404
    assert api("analyst1").post("/consents", {"customer": east.pk, "channel": "sms",
                                              "status": "given", "source": "form"}
                                ).status_code == 403
    for bad in ({"channel": "fax"}, {"source": "unsubscribe"}, {"status": "maybe"},
                {"at": "2999-01-01T00:00:00Z"}, {"contact": children["north"]["contact"].pk}):
        answer = api("sales1").post("/consents", {"customer": east.pk, "channel": "sms",
                                                  "status": "given", "source": "form", **bad})
        assert answer.status_code in (400, 422), (bad, answer.content)
    assert api("sales1").get("/consents?stat=given").status_code == 422
