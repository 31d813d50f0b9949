"""/api/v1/surveys, the customer's survey invitations and responses, /api/v1/survey-results."""

from __future__ import annotations

import pytest

from kehu.service.surveys import services
from kehu.service.surveys.models import Measure, SurveyResponse
from tests.service.surveys_factory import QUESTIONS, answers_for, make_survey

pytestmark = pytest.mark.django_db


def test_surveys_are_created_read_and_updated(api, users):
    body = {"name_en": "Visit check", "name_zh": "拜访回访", "purpose": "key_customers",
            "questions": [dict(q) for q in QUESTIONS[:2]]}
    refused = api("sales1").post("/surveys", body)
    assert refused.status_code == 403
    made = api("manager1").post("/surveys", body)
    assert made.status_code == 201, made.content
    survey = made.json()
    assert [q["measure"] for q in survey["questions"]] == ["csat", "nps"]
    assert (survey["questions"][1]["scale_min"], survey["questions"][1]["scale_max"]) == (0, 10)
    listed = api("service1").get("/surveys", purpose="key_customers").json()["surveys"]
    assert [s["id"] for s in listed] == [survey["id"]]
    first = survey["questions"][0]
    patch = {"version": survey["version"], "valid_days": 30,
             "questions": [{"id": first["id"], "measure": "csat", "text_en": "Overall?",
                            "text_zh": "总体？"},
                           {"measure": "social", "text_en": "Values", "text_zh": "价值观"}]}
    changed = api("manager1").patch(f"/surveys/{survey['id']}", patch)
    assert changed.status_code == 200, changed.content
    assert [q["text_zh"] for q in changed.json()["questions"]] == ["总体？", "价值观"]
    assert changed.json()["questions"][0]["id"] == first["id"]
    stale = api("manager1").patch(f"/surveys/{survey['id']}", patch)
    assert stale.status_code == 409
    twice = api("manager1").post("/surveys", body)
    assert twice.status_code == 400 and "already" in twice.json()["detail"]
    assert api("manager1").post("/surveys", {**body, "questions": []}).status_code == 422


def test_a_customer_is_invited_and_their_answers_read(api, users, customers):
    survey = make_survey(users["admin"])
    east = customers["east"]
    sent = api("service1").post(f"/customers/{east.pk}/survey-invitations",
                                {"survey": survey.pk, "language": "en"})
    assert sent.status_code == 201, sent.content
    url = sent.json()["url"]
    assert "/survey/" in url and sent.json()["emailed_to"] == ""
    from kehu.service.surveys.models import SurveyInvitation

    invitation = SurveyInvitation.objects.get(pk=sent.json()["id"])
    services.submit_answers(invitation, answers_for(survey, **{Measure.CSAT: 2}))
    rows = api("sales1").get(f"/customers/{east.pk}/survey-responses").json()
    assert [(r["csat"], r["low"], r["reason"]) for r in rows] == [(2.0, True, "by_hand")]
    assert {a["measure"] for a in rows[0]["answers"]} >= {"csat", "nps", "comment"}
    assert api("sales2").get(f"/customers/{east.pk}/survey-responses").status_code == 404
    assert api("sales2").post(f"/customers/{east.pk}/survey-invitations",
                              {"survey": survey.pk}).status_code == 404
    bad = api("service1").post(f"/customers/{east.pk}/survey-invitations",
                               {"survey": survey.pk + 99})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "survey"
    results = api("manager1").get("/survey-results", months=3).json()
    assert results["summary"]["responses"] == 1 and results["summary"]["low"] == 1
    assert results["by_owner"][0]["label"] == "sales1"
    assert api("manager2").get("/survey-results").json()["summary"]["responses"] == 0
    assert api("sales1").get("/survey-results").status_code == 403
    assert SurveyResponse.objects.count() == 1
