"""The key-account plan in a real browser, in English and in Chinese: a manager starts the
plan from the customer card, adds a competitor with the six answers and a step of the
action plan, and reads the decision chain drawn from the contacts, on screen and printed."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.browser.test_ui_flow import sign_in, switch_language

pytestmark = pytest.mark.browser

PLAN_URL = re.compile(r".*/sales/plans/\d+/(#\w+)?$")

CHAIN = [("王总裁", "总裁", "approver", "neutral", "acquainted"),
         ("钱采购", "采购总监", "decision_maker", "supports", "good"),
         ("孙财务", "财务总监", "decision_maker", "opposes", "none"),
         ("李人事", "人力资源总监", "evaluator", "supports", "close"),
         ("吴主管", "用人部门主管", "evaluator", "", ""),
         ("郑局长", "社保局局长", "influencer", "neutral", "none")]

TEXTS = {
    "en": {"tab": "Account plan", "start": "Start an account plan", "save": "Save",
           "started": "Account plan started.", "add_competitor": "Add a competitor",
           "add_step": "Add a step", "step_added": "Step added",
           "roles": ["Approver", "Decision maker", "Evaluator", "Influencer"],
           "opposes": "Opposes us", "unknown": "Attitude not known", "good": "Good relationship",
           "open": "open", "level": "interest"},
    "zh-hans": {"tab": "客户计划", "start": "创建客户计划", "save": "保存",
                "started": "客户计划已创建。", "add_competitor": "添加竞争对手",
                "add_step": "添加步骤", "step_added": "步骤已添加",
                "roles": ["决策批准人", "决策者", "决策支撑者", "决策影响者"],
                "opposes": "反对我方", "unknown": "态度未知", "good": "关系良好",
                "open": "未完成", "level": "interest"},
}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_manager_starts_a_plan_and_reads_the_decision_chain(page, live_server, users,
                                                               customers, shot, language):
    from kehu.customers.services import create_contact

    t = TEXTS[language]
    east = customers["east"]
    for name, title, role, attitude, rel in CHAIN:
        create_contact(users["admin"], east, {"name": name, "title": title,
                                              "decision_role": role, "attitude": attitude,
                                              "our_relationship": rel})
    sign_in(page, live_server, "manager1")
    if language != "en":
        switch_language(page, language)
    page.goto(f"{live_server.url}/customers/{east.pk}/?tab=account_plan")
    page.click(f"text={t['start']}")
    page.fill("textarea[name=situation]", "两个新工厂在建，人员规模翻倍。")
    page.fill("textarea[name=objectives]", "成为其唯一的人力资源外包供应商。")
    page.select_option("select[name=relationship_level]", t["level"])
    page.fill("input[name=review_on]", (dt.date.today() + dt.timedelta(days=30)).isoformat())
    page.click(f"form button.primary:has-text('{t['save']}')")
    page.wait_for_url(PLAN_URL)
    assert t["started"] in page.inner_text(".messages")

    # The decision chain: every contact in its role, attitude and relationship apart.
    tiers = page.locator(".chain-tier h3").all_inner_texts()
    assert [x.rstrip("0123456789").strip() for x in tiers][:4] == t["roles"]
    opposed = page.locator("li.person.att-opposes")
    assert "孙财务" in opposed.inner_text() and t["opposes"] in opposed.inner_text()
    unknown = page.locator("li.person.att-unknown")
    assert "吴主管" in unknown.inner_text() and t["unknown"] in unknown.inner_text()
    assert t["good"] in page.locator("li.person", has_text="钱采购").inner_text()

    # A competitor with the six answers, new to the firm's list.
    page.click(f"text={t['add_competitor']}")
    page.fill("input[name=new_competitor]", "前程人力")
    for field, answer in [("who_they_are", "全国性人力资源服务商"), ("positioning", "低价走量"),
                          ("relationship_levers", "与人事总监私交"), ("strengths", "网点多"),
                          ("weaknesses", "服务响应慢"), ("organisation", "按区域分公司")]:
        page.fill(f"textarea[name={field}]", answer)
    page.click(f"form button.primary:has-text('{t['save']}')")
    page.wait_for_url(PLAN_URL)
    sheet = page.locator("#competitors article.sheet")
    assert "前程人力" in sheet.inner_text() and "服务响应慢" in sheet.inner_text()

    # A step of the action plan: a task on the owner's workbench.
    page.click(f"text={t['add_step']}")
    page.fill("input[name=title]", "拜访人力资源总监")
    page.select_option("select[name=owner]", label=str(users["sales1"]))
    page.fill("input[name=due_on]", (dt.date.today() + dt.timedelta(days=7)).isoformat())
    page.click(f"form button.primary:has-text('{t['save']}')")
    page.wait_for_url(PLAN_URL)
    assert t["step_added"] in page.inner_text(".messages")
    row = page.locator("table.plan-steps tbody tr", has_text="拜访人力资源总监")
    assert t["open"] in row.inner_text()
    shot(page, f"account-plan-{language}-1-plan")

    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible()
    assert page.locator(".chain").is_visible()
    shot(page, f"account-plan-{language}-2-printed")
    page.emulate_media(media="screen")

    page.goto(f"{live_server.url}/customers/{east.pk}/?tab=account_plan")
    assert "孙财务" in page.inner_text(".chain")
    shot(page, f"account-plan-{language}-3-card-tab")
