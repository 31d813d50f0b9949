"""The service-level settings in a real browser, in English then Chinese: an administrator
sets the week (with a night shift), adds a holiday and changes a target; a wrong entry is
named on its field."""

from __future__ import annotations

import pytest

from tests.browser.test_ui_flow import sign_in, switch_language

pytestmark = pytest.mark.browser


def test_an_admin_sets_service_hours_and_targets(page, live_server, users, shot):
    from kehu.service.sla.calendar import Targets, load_calendar

    sign_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/service/targets/")
    assert "A named service team" in page.inner_text("#targets-large")
    page.fill("#id_household-any_urgent_first", "0.75")
    page.fill("#id_household-any_urgent_resolve", "0.5")
    page.click("#targets-household button[type=submit]")
    # Resolution before the first response: refused on the field, nothing saved.
    error = page.inner_text("#id_household-any_urgent_resolve_error")
    assert "cannot be resolved before it is first answered" in error
    shot(page, "service-targets-error-en")
    page.fill("#id_household-any_urgent_resolve", "5")
    page.click("#targets-household button[type=submit]")
    assert "saved" in page.inner_text(".messages, main")
    budget = Targets().budget("household", "", "urgent")
    assert budget.first_response.total_seconds() == 45 * 60

    switch_language(page, "zh-hans")
    page.goto(f"{live_server.url}/service/hours/")
    assert "服务时间" in page.inner_text("h1")
    page.fill("#id_d6_0_start", "22:00")
    page.fill("#id_d6_0_end", "06:00")
    page.click("#hours-form button[type=submit]")
    assert "服务时间已保存" in page.inner_text("main")
    page.fill("#id_holiday-day", "2026-10-01")
    page.select_option("#id_holiday-kind", "holiday")
    page.fill("#id_holiday-name_zh", "国庆节")
    page.click("#holiday-form button[type=submit]")
    assert "国庆节" in page.inner_text("#holidays")
    shot(page, "service-hours-zh")
    cal = load_calendar()
    assert any(p.weekday == 6 and p.overnight for p in cal.periods)
    page.goto(f"{live_server.url}/service/targets/")
    shot(page, "service-targets-zh")
