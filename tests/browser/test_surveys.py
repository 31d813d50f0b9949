"""The public survey page on a phone (390×844), in Chinese and in English: the customer
answers with their thumb, a missing answer is pointed out, the answers arrive, the link
then says it was used, and a changed link is refused. Then the card's Satisfaction tab and
the results page for the staff, in both languages."""

from __future__ import annotations

import pytest

from tests.browser.test_ui_flow import sign_in, switch_language

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
TEXTS = {
    "zh-hans": {"send": "提交我的回答", "missing": "请选择一个分数。", "thanks": "谢谢！",
                "used": "此调查已经填写过了", "bad": "此链接无效", "question": "总体而言"},
    "en": {"send": "Send my answers", "missing": "Please choose a score.",
           "thanks": "Thank you!", "used": "This survey has already been answered",
           "bad": "This link is not valid", "question": "How satisfied are you"},
}


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_a_customer_answers_on_a_phone_in_both_languages(phone, live_server, users,
                                                          customers, shot):
    from kehu.service.surveys import links
    from kehu.service.surveys.models import SurveyResponse
    from kehu.service.surveys.services import send_survey
    from tests.service.surveys_factory import make_survey

    survey = make_survey(users["admin"])
    for n, (language, texts) in enumerate(TEXTS.items()):
        invitation = send_survey(users["admin"], survey, customers["east"],
                                 language=language).invitation
        url = live_server.url + links.path_for(invitation)
        phone.goto(url)
        assert texts["question"] in phone.inner_text("main")
        # Fits the phone: nothing wider than the screen.
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(phone, f"survey-phone-{language}-1-questions")
        # The 0–10 row: eleven buttons on one line, each at least 28 px wide to tap.
        nps = phone.locator(".survey-scale-10").first.locator(".survey-choice")
        assert nps.count() == 11
        boxes = [nps.nth(i).bounding_box() for i in range(11)]
        assert len({round(b["y"]) for b in boxes}) == 1 and min(b["width"] for b in boxes) >= 28
        # Everything but the first question, then send: the page names what is missing.
        scales = phone.locator(".survey-scale")
        for i in range(1, scales.count()):
            scale = scales.nth(i).locator(".survey-choice")
            scale.nth(scale.count() - 2).click()
        phone.fill("textarea", "师傅很准时，服务很好。" if n == 0 else "On time and friendly.")
        phone.click(f"button:has-text('{texts['send']}')")
        phone.wait_for_selector(".error-summary")
        assert texts["missing"] in phone.inner_text(".error-summary")
        shot(phone, f"survey-phone-{language}-2-missing")
        # Chosen answers are kept; the missing one is given, and the answers arrive.
        phone.locator(".survey-scale").first.locator(".survey-choice").nth(3).click()
        phone.click(f"button:has-text('{texts['send']}')")
        phone.wait_for_selector(f"h1:has-text('{texts['thanks']}')")
        shot(phone, f"survey-phone-{language}-3-thanks")
        phone.goto(url)
        assert texts["used"] in phone.inner_text("h1")
        shot(phone, f"survey-phone-{language}-4-used")
        # A changed link: no invitation to take the language from, so the phone's (Chinese).
        phone.goto(url.rstrip("/")[:-4] + "AAAA/")
        assert TEXTS["zh-hans"]["bad"] in phone.inner_text("h1")
        shot(phone, f"survey-phone-{language}-5-changed")
        response = SurveyResponse.objects.get(invitation=invitation)
        assert (response.csat, response.low) == (4, False)
    # The language links switch the page's language.
    invitation = send_survey(users["admin"], survey, customers["east"]).invitation
    phone.goto(live_server.url + links.path_for(invitation))
    phone.click("nav.survey-lang a[lang=en]")
    assert TEXTS["en"]["question"] in phone.inner_text("main")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_staff_see_the_answers_and_send_a_survey(page, live_server, users, customers, shot,
                                                     language):
    from kehu.customers.services import create_contact
    from kehu.service.surveys.services import send_survey, submit_answers
    from tests.service.surveys_factory import answers_for, make_survey

    survey = make_survey(users["admin"])
    east = customers["east"]
    submit_answers(send_survey(users["admin"], survey, east).invitation,
                   answers_for(survey, csat=2, nps=4))
    create_contact(users["admin"], east, {"name": "王芳", "email": "wang@huadong.example"})
    sign_in(page, live_server, "service1")
    if language != "en":
        switch_language(page, language)
    page.goto(f"{live_server.url}/customers/{east.pk}/?tab=surveys")
    tab = page.inner_text("main")
    assert "How likely are you to buy from us again?" in tab or "再次购买" in tab
    shot(page, f"survey-card-{language}-1-tab")
    page.select_option("select[name=contact]", label="王芳")
    page.click("form[action$='/surveys/send/'] button.primary")
    page.wait_for_selector(".messages")
    assert "wang@huadong.example" in page.inner_text(".messages")
    assert page.locator("input.survey-link").count() == 1
    shot(page, f"survey-card-{language}-2-sent")
    page.goto(f"{live_server.url}/service/surveys/")
    body = page.inner_text("main")
    assert east.name in body  # its low score is to be followed up
    shot(page, f"survey-results-{language}")
