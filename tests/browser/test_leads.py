"""The lead form in a real browser, in English and in Chinese: a salesperson creates a lead
from an exhibition, judges money, authority and need, sees the combination, its prescribed
action and the task on the workbench; judging again replaces the task."""

from __future__ import annotations

import pytest

from tests.browser.test_ui_flow import sign_in, switch_language

pytestmark = pytest.mark.browser

TEXTS = {
    "en": {"action": "Contact and find the person with authority", "pursue": "pursue now",
           "score": "Lead score", "nav": "Sales"},
    "zh-hans": {"action": "可以接触，并设法找到有决策权的人", "pursue": "立即跟进",
                "score": "线索评分", "nav": "销售"},
}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_lead_is_created_judged_and_becomes_a_task(page, live_server, users, shot,
                                                     language):
    texts = TEXTS[language]
    sign_in(page, live_server, "sales1")
    if language != "en":
        switch_language(page, language)
    page.click(f"nav.mainnav a:has-text('{texts['nav']}')")
    page.click("nav.subnav a[href='/sales/leads/']")
    page.wait_for_url(f"{live_server.url}/sales/leads/")
    page.click("#new-lead")
    page.fill("input[name=name]", "宁波门当户对机械有限公司")
    page.select_option("select[name=source]", "exhibition")
    page.fill("input[name=source_detail]", "上海国际工业博览会")
    page.fill("input[name=contact_name]", "陈经理")
    page.select_option("select[name=money]", "yes")
    page.fill("input[name=money_note]", "预算已批")
    page.select_option("select[name=authority]", "no")
    page.select_option("select[name=need]", "yes")
    page.select_option("select[name=fits_our_size]", "yes")
    shot(page, f"leads-{language}-1-form")
    page.click("#lead-form button.primary")
    page.wait_for_selector("#man-code")
    assert page.inner_text("#man-code") == "M+a+N"
    assert texts["action"] in page.inner_text("#lead-action")
    assert texts["score"] in page.inner_text("#score")
    shot(page, f"leads-{language}-2-judged")

    # The action is a task on the workbench.
    page.goto(f"{live_server.url}/")
    task = page.locator("li.wb-task", has_text="宁波门当户对机械有限公司")
    assert texts["action"] in task.inner_text()
    shot(page, f"leads-{language}-3-workbench")

    # Judging again: authority found, the lead is an ideal prospect, the task changes.
    task.locator("a", has_text="宁波门当户对机械有限公司").click()
    page.select_option("#judge-form select[name=authority]", "yes")
    page.fill("#judge-form input[name=authority_note]", "总经理亲自参加洽谈")
    page.click("#judge-form button.primary")
    page.wait_for_selector("#man-code")
    assert page.inner_text("#man-code") == "M+A+N"
    assert texts["pursue"] in page.inner_text("#lead-action")
    assert texts["pursue"] in page.inner_text("#lead-task")
    shot(page, f"leads-{language}-4-rejudged")
    page.goto(f"{live_server.url}/")
    assert texts["action"] not in page.locator("li.wb-task", has_text="宁波门当户对机械有限公司"
                                               ).inner_text()
