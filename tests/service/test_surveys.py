"""Satisfaction surveys: the signed single-use expiring link, the answers, low-score
follow-ups, the results by segment, owner and month, sending from the card, and editing."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from kehu.core.errors import NotPermitted, ServiceError, StaleVersion
from kehu.service.surveys import links, selectors, services
from kehu.service.surveys.models import Measure, Purpose, SurveyInvitation, SurveyResponse
from kehu.tasks.models import Task, TaskStatus
from tests.service.surveys_factory import answers_for, make_survey

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(users):
    return make_survey(users["admin"])


def _send(users, survey, customer, **kw):
    return services.send_survey(users["admin"], survey, customer, **kw)


def test_a_link_takes_answers_once(client, users, customers, survey):
    sent = _send(users, survey, customers["east"])
    path = links.path_for(sent.invitation)
    assert sent.url.endswith(path)
    page = client.get(path)
    assert page.status_code == 200
    assert "总体而言，您对我们满意吗？" in page.content.decode()  # the invitation's language
    done = client.post(path, answers_for(survey))
    assert done.status_code == 200 and "谢谢" in done.content.decode()
    response = SurveyResponse.objects.get()
    assert (response.csat, response.nps, response.buy_again, response.low) == (5, 10, 9, False)
    assert response.comment == "很好"
    assert response.answers.count() == 7
    again = client.post(path, answers_for(survey, **{Measure.CSAT: 1}))
    assert again.status_code == 410 and "已经" in again.content.decode()
    assert client.get(path).status_code == 410
    assert SurveyResponse.objects.count() == 1
    assert SurveyResponse.objects.get().csat == 5


def test_a_changed_or_borrowed_link_is_refused(client, users, customers, survey):
    one = _send(users, survey, customers["east"]).invitation
    other = _send(users, survey, customers["north"]).invitation
    token = links.token_for(one.pk, one.nonce)
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    for bad in (tampered, links.token_for(other.pk, one.nonce), "abc", "x" * 300):
        page = client.get(reverse("service:survey_answer", kwargs={"survey_token": bad}),
                          HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 404, bad
        assert "This link is not valid" in page.content.decode()
        post = client.post(reverse("service:survey_answer", kwargs={"survey_token": bad}),
                           answers_for(survey))
        assert post.status_code == 404
    assert not SurveyResponse.objects.exists()


def test_an_expired_link_is_refused(client, users, customers, survey):
    long_ago = timezone.now() - dt.timedelta(days=survey.valid_days + 1)
    sent = _send(users, survey, customers["east"], now=long_ago)
    page = client.post(links.path_for(sent.invitation), answers_for(survey),
                       HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 410
    assert "expired" in page.content.decode()
    assert not SurveyResponse.objects.exists()


def test_the_page_shows_the_survey_and_nothing_else(client, users, customers, survey):
    customer = customers["east"]
    sent = _send(users, survey, customer, language="en")
    body = client.get(links.path_for(sent.invitation)).content.decode()
    assert "How satisfied are you with us overall?" in body
    assert customer.name not in body and "sales1" not in body
    assert reverse("customers:list") not in body  # no navigation of the firm's pages
    zh = client.get(links.path_for(sent.invitation) + "?lang=zh-hans").content.decode()
    assert "总体而言" in zh and 'lang="zh-Hans"' in zh


def test_wrong_scores_get_a_message_and_nothing_is_saved(client, users, customers, survey):
    sent = _send(users, survey, customers["east"], language="en")
    path = links.path_for(sent.invitation)
    data = answers_for(survey, **{Measure.NPS: 11})
    del data[f"q{survey.questions.get(measure=Measure.CSAT).pk}"]
    page = client.post(path, data)
    assert page.status_code == 400
    body = page.content.decode()
    assert "Please choose a score." in body
    assert "Select a valid choice" in body
    assert not SurveyResponse.objects.exists()
    with pytest.raises(ServiceError, match="from 0 to 10"):
        services.submit_answers(sent.invitation, answers_for(survey, **{Measure.NPS: 11}))


def test_a_low_score_makes_a_follow_up_task_for_the_owner(users, customers, survey):
    east, north = customers["east"], customers["north"]
    services.submit_answers(_send(users, survey, east).invitation,
                            answers_for(survey, **{Measure.CSAT: 2, Measure.NPS: 3}))
    services.submit_answers(_send(users, survey, north).invitation, answers_for(survey))
    task = Task.objects.get(origin=services.LOW_SCORE_ORIGIN)
    assert (task.customer, task.assignee, task.status) == (east, east.owner, TaskStatus.OPEN)
    assert "2" in task.reason and "3" in task.reason
    assert task.due_on == timezone.localdate() + dt.timedelta(days=services.FOLLOW_UP_DAYS)
    # A second low answer does not pile up a second open task.
    services.submit_answers(_send(users, survey, east).invitation,
                            answers_for(survey, **{Measure.SOCIAL: 1}))
    assert Task.objects.filter(origin=services.LOW_SCORE_ORIGIN).count() == 1


@pytest.mark.parametrize(("scores", "low"), [
    ({Measure.CSAT: 3, Measure.NPS: 7}, False),
    ({Measure.CSAT: 2}, True), ({Measure.NPS: 6}, True), ({Measure.MATERIAL: 2}, True),
    ({Measure.BUY_AGAIN: 4}, True), ({Measure.SPIRITUAL: 3, Measure.BUY_AGAIN: 5}, False),
])
def test_what_counts_as_low(scores, low):
    assert services.is_low(scores) is low


def test_results_by_month_segment_owner_within_the_scope(users, customers, survey):
    east, east_b, north = customers["east"], customers["east_b"], customers["north"]
    today = timezone.localdate()
    last_month = timezone.now() - dt.timedelta(days=today.day + 3)
    for customer, csat, nps, when in ((east, 5, 10, None), (east_b, 3, 6, None),
                                      (north, 1, 0, last_month)):
        sent = _send(users, survey, customer, now=when)
        services.submit_answers(sent.invitation,
                                answers_for(survey, **{Measure.CSAT: csat, Measure.NPS: nps}),
                                now=when)
    everyone = selectors.summary(users["admin"])
    assert everyone.responses == 3 and everyone.csat == pytest.approx(3)
    assert everyone.nps == pytest.approx(100 * (1 - 2) / 3)  # one promoter, two detractors
    assert everyone.satisfied_share == pytest.approx(1 / 3)
    east_only = selectors.summary(users["manager1"])
    assert east_only.responses == 2 and east_only.csat == pytest.approx(4)
    assert east_only.nps == pytest.approx(0)
    owners = selectors.by_owner(users["manager1"])
    assert [(g.label, g.scores.csat) for g in owners] == [("sales1", 5), ("sales1b", 3)]
    months = selectors.by_month(users["admin"], 3, today)
    assert [m.month for m in months][-1] == today.replace(day=1)
    assert [m.scores.responses for m in months][-2:] == [1, 2]
    segments = selectors.by_segment(users["admin"])
    assert [(g.key, g.scores.responses) for g in segments] == [("", 3)]  # not yet scored
    assert selectors.by_segment(users["sales2"])[0].scores.csat == 1
    assert selectors.response_rate(users["admin"]) == (3, 3)


def test_results_page_in_both_languages(client, users, customers, survey):
    services.submit_answers(_send(users, survey, customers["east"]).invitation,
                            answers_for(survey, **{Measure.CSAT: 1}))
    client.force_login(users["manager1"])
    page = client.get(reverse("service:surveys"))
    body = page.content.decode()
    assert page.status_code == 200
    assert customers["east"].name in body  # among the low scores to follow up
    assert "By value segment" in body and "By owner" in body
    zh = client.get(reverse("service:surveys"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "按负责人" in zh.content.decode()
    assert client.get(reverse("service:surveys"), {"months": "7"}).status_code == 400
    client.force_login(users["sales1"])
    assert client.get(reverse("service:surveys")).status_code == 403


def test_sending_from_the_card_mails_the_link(client, users, customers, survey):
    from kehu.customers.services import create_contact

    customer = customers["east"]
    contact = create_contact(users["admin"], customer, {"name": "王芳",
                                                        "email": "wang@huadong.example"})
    client.force_login(users["service1"])
    with_link = client.post(reverse("service:survey_send", args=[customer.pk]),
                            {"survey": survey.pk, "contact": contact.pk, "language": "en"})
    assert with_link.status_code == 302
    invitation = SurveyInvitation.objects.get()
    assert (invitation.contact, invitation.emailed_to) == (contact, "wang@huadong.example")
    assert len(mail.outbox) == 0  # sent when the transaction commits
    tab = client.get(reverse("customers:card", args=[customer.pk]), {"tab": "surveys"})
    assert links.path_for(invitation) in tab.content.decode()
    services.submit_answers(invitation, answers_for(survey))
    tab = client.get(reverse("customers:card", args=[customer.pk]), {"tab": "surveys"})
    body = tab.content.decode()
    assert "How likely are you to buy from us again?" in body and "很好" in body
    assert links.path_for(invitation) not in body
    bad = client.post(reverse("service:survey_send", args=[customer.pk]),
                      {"survey": survey.pk, "language": "fr"})
    assert bad.status_code == 400
    client.force_login(users["sales2"])
    assert client.post(reverse("service:survey_send", args=[customer.pk]),
                       {"survey": survey.pk, "language": "en"}).status_code == 404


def test_the_link_is_mailed_on_commit(users, customers, survey, django_capture_on_commit_callbacks):
    from kehu.customers.services import create_contact

    create_contact(users["admin"], customers["east"], {"name": "李雷", "email": "li@example.cn",
                                                       "is_primary": True})
    with django_capture_on_commit_callbacks(execute=True):
        sent = _send(users, survey, customers["east"])
    assert [m.to for m in mail.outbox] == [["li@example.cn"]]
    assert sent.url in mail.outbox[0].body and "李雷" in mail.outbox[0].body


def test_who_may_send_and_edit(users, customers, survey):
    with pytest.raises(NotPermitted):
        services.send_survey(users["sales2"], survey, customers["east"])
    with pytest.raises(NotPermitted):
        services.update_survey(users["service1"], survey, {"active": False})
    services.update_survey(users["manager1"], survey, {"active": False},
                           expected_version=survey.version)
    with pytest.raises(ServiceError, match="not active"):
        _send(users, survey, customers["east"])
    with pytest.raises(StaleVersion):
        services.update_survey(users["manager1"], survey, {"active": True}, expected_version=1)


def test_one_active_survey_per_occasion(users):
    make_survey(users["admin"], Purpose.AFTER_TICKET)
    with pytest.raises(ServiceError, match="already sent"):
        make_survey(users["admin"], Purpose.AFTER_TICKET, name="Second")
    make_survey(users["admin"], Purpose.AFTER_TICKET, name="Second", active=False)


def test_the_survey_page_edits_questions_in_both_languages(client, users, survey):
    client.force_login(users["manager1"])
    url = reverse("service:survey_edit", args=[survey.pk])
    page = client.get(url)
    assert page.status_code == 200 and "产品本身" in page.content.decode()
    questions = list(survey.questions.all())
    data = {"name_en": "Service check", "name_zh": "服务回访", "intro_en": "", "intro_zh": "",
            "purpose": Purpose.BY_HAND, "active": "on", "every_days": "180", "valid_days": "7",
            "version": str(survey.version), "q-TOTAL_FORMS": str(len(questions) + 1),
            "q-INITIAL_FORMS": str(len(questions)), "q-MIN_NUM_FORMS": "0",
            "q-MAX_NUM_FORMS": "30"}
    for i, q in enumerate(questions):
        data.update({f"q-{i}-id": str(q.pk), f"q-{i}-measure": q.measure,
                     f"q-{i}-text_en": q.text_en, f"q-{i}-text_zh": q.text_zh,
                     f"q-{i}-required": "on"})
    data["q-2-DELETE"] = "on"
    n = len(questions)
    data.update({f"q-{n}-measure": Measure.CSAT, f"q-{n}-text_en": "The repair itself",
                 f"q-{n}-text_zh": ""})
    refused = client.post(url, data)
    assert refused.status_code == 400
    assert "both languages" in refused.content.decode()
    data[f"q-{n}-text_zh"] = "维修本身"
    assert client.post(url, data).status_code == 302
    survey.refresh_from_db()
    texts = list(survey.questions.values_list("text_zh", flat=True))
    assert "产品本身" not in texts and texts[-1] == "维修本身" and len(texts) == n
    assert survey.valid_days == 7 and survey.name_zh == "服务回访"
    stale = client.post(url, data)  # the version read before the save
    assert stale.status_code == 400 and "changed by" in stale.content.decode()
    client.force_login(users["service1"])
    assert client.get(url).status_code == 403


def test_the_stated_intention_feeds_the_loyalty_index(users, customers, survey):
    from kehu.analytics.models import CustomerValue
    from kehu.analytics.refresh import refresh_values
    from kehu.analytics.services import record_loyalty_statement

    east, north = customers["east"], customers["north"]
    services.submit_answers(_send(users, survey, east).invitation,
                            answers_for(survey, **{Measure.BUY_AGAIN: 9, Measure.NPS: 10}))
    # An older statement on the card gives way to the newer answer; a newer one wins.
    record_loyalty_statement(users["admin"], east, stated_on=dt.date(2020, 1, 1), buy_again=1)
    services.submit_answers(_send(users, survey, north, now=timezone.now()
                                  - dt.timedelta(days=40)).invitation,
                            answers_for(survey, **{Measure.BUY_AGAIN: 2, Measure.NPS: 2}),
                            now=timezone.now() - dt.timedelta(days=40))
    record_loyalty_statement(users["admin"], north, stated_on=timezone.localdate(),
                             buy_again=10, recommend=10)
    refresh_values(users["admin"])
    attitude = dict(CustomerValue.objects.values_list("customer_id", "loyalty_attitude"))
    assert attitude[east.pk] == pytest.approx(95)
    assert attitude[north.pk] == pytest.approx(100)
    assert attitude[customers["east_b"].pk] is None


def test_closing_a_ticket_sends_the_after_ticket_survey_once(users, customers,
                                                             django_capture_on_commit_callbacks):
    from kehu.customers.services import create_contact
    from kehu.service.tickets.services import change_status, close_ticket, open_ticket

    admin, east = users["admin"], customers["east"]
    contact = create_contact(admin, east, {"name": "赵敏", "email": "zhao@huadong.example"})
    ticket = open_ticket(admin, east, subject="打印机卡纸", contact=contact)
    close_ticket(admin, ticket)
    assert not SurveyInvitation.objects.exists()  # no after-ticket survey yet
    make_survey(admin, Purpose.AFTER_TICKET)
    second = open_ticket(admin, east, subject="复印机维修", contact=contact)
    with django_capture_on_commit_callbacks(execute=True):
        close_ticket(admin, second)
    invitation = SurveyInvitation.objects.get()
    assert (invitation.ticket, invitation.contact, invitation.reason) == (
        second, contact, Purpose.AFTER_TICKET)
    assert [m.to for m in mail.outbox] == [["zhao@huadong.example"]]
    second.refresh_from_db()
    change_status(admin, second, "open")
    second.refresh_from_db()
    close_ticket(admin, second)  # closed again: no second survey about the same ticket
    assert SurveyInvitation.objects.count() == 1


def test_key_customers_are_asked_again_after_the_interval(users, customers):
    survey = make_survey(users["admin"], Purpose.KEY_CUSTOMERS, every_days=90)
    east, north = customers["east"], customers["north"]
    today = timezone.localdate()
    assert services.invite_key_customers(today, [east.pk, north.pk]) == 2
    assert services.invite_key_customers(today + dt.timedelta(days=30), [east.pk]) == 0
    later = today + dt.timedelta(days=91)
    assert services.invite_key_customers(later, [east.pk, north.pk]) == 2
    assert SurveyInvitation.objects.filter(survey=survey, reason=Purpose.KEY_CUSTOMERS
                                           ).count() == 4


def test_the_sweep_asks_the_key_customers(users, customers, plan_records):
    from kehu.customers.services import set_lifecycle_state
    from kehu.service.surveys.sweep import survey_key_customers

    make_survey(users["admin"], Purpose.KEY_CUSTOMERS)
    # Every fixture customer has an account plan; a churned one is not asked.
    set_lifecycle_state(users["admin"], customers["north"], "churned", reason="lost")
    out = StringIO()
    call_command("service", "sweep", "--only", "survey_key_customers", stdout=out)
    assert "Surveys sent to key customers: 2" in out.getvalue()
    assert set(SurveyInvitation.objects.values_list("customer", flat=True)) == {
        customers["east"].pk, customers["east_b"].pk}
    assert survey_key_customers(timezone.now()) == 0


def test_each_customers_latest_satisfaction(users, customers, survey):
    east, north = customers["east"], customers["north"]
    earlier = timezone.now() - dt.timedelta(days=10)
    services.submit_answers(_send(users, survey, east, now=earlier).invitation,
                            answers_for(survey, **{Measure.CSAT: 5}), now=earlier)
    services.submit_answers(_send(users, survey, east).invitation,
                            answers_for(survey, **{Measure.CSAT: 3}))
    services.submit_answers(_send(users, survey, north).invitation,
                            answers_for(survey, **{Measure.CSAT: 4}))
    assert selectors.latest_satisfaction(users["admin"]) == {east.pk: False, north.pk: True}
    assert selectors.latest_satisfaction(users["manager2"]) == {north.pk: True}
