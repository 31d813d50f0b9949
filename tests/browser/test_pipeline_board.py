"""The pipeline board in a real browser, in English and in Chinese: a card dragged to another
stage (htmx posts the move, the board is redrawn with the column totals), the same from the
keyboard alone (Tab to the card's arrow button, Enter), and the forecast page's chart."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.browser.test_ui_flow import sign_in, switch_language

pytestmark = pytest.mark.browser


@pytest.fixture
def deals(users, customers):
    from kehu.sales.pipeline.models import Stage
    from kehu.sales.pipeline.services import create_opportunity

    first = Stage.objects.order_by("order").first()
    close = timezone.localdate() + dt.timedelta(days=20)
    return {
        "drag": create_opportunity(users["sales1"], customers["east"], title="Boiler retrofit",
                                   stage=first, amount=Decimal("12000"), expected_close=close),
        "keys": create_opportunity(users["sales1"], customers["east"], title="Chiller service",
                                   stage=first, amount=Decimal("8000"), expected_close=close),
    }


def column_of(page, title: str) -> str:
    return page.evaluate("""(title) => {
        const card = [...document.querySelectorAll('.opp-card')].find(
            c => c.querySelector('.opp-title').textContent.trim() === title);
        return card.closest('.board-col').querySelector('h2').childNodes[0].textContent.trim();
    }""", title)


def drag(page, title: str, to_column: int) -> None:
    card = page.locator(".opp-card", has=page.locator(f".opp-title:text-is('{title}')"))
    target = page.locator(".board-col").nth(to_column)
    card.drag_to(target)


@pytest.mark.parametrize(("language", "names"), [
    ("en", ["Qualification", "Needs analysis", "Proposal"]),
    ("zh-hans", ["初步接洽", "需求分析", "方案报价"]),
])
def test_the_board_by_drag_and_by_keyboard(language, names, page, live_server, users, deals,
                                           shot):
    from kehu.sales.pipeline.models import Opportunity

    sign_in(page, live_server, "sales1")
    if language != "en":
        switch_language(page, language)
    page.click("nav.mainnav a[href^='/sales/']")
    page.click("nav.subnav a[href='/sales/pipeline/']")
    page.wait_for_url(f"{live_server.url}/sales/pipeline/")
    assert column_of(page, "Boiler retrofit") == names[0]
    shot(page, f"pipeline-{language}-1-board")

    # Drag: the card lands in the third column, the board is redrawn by htmx.
    drag(page, "Boiler retrofit", 2)
    page.wait_for_function("""(name) => [...document.querySelectorAll('.opp-card')].some(c =>
        c.textContent.includes('Boiler retrofit') &&
        c.closest('.board-col').querySelector('h2').textContent.includes(name))""",
                           arg=names[2])
    assert Opportunity.objects.get(pk=deals["drag"].pk).stage.name_en == "Proposal"
    proposal = page.locator(".board-col").nth(2)
    assert proposal.locator(".col-count").inner_text() == "1"
    assert "12,000" in proposal.locator(".col-amount").inner_text()
    assert "6,000" in proposal.locator(".col-weighted").inner_text()  # 50 %
    shot(page, f"pipeline-{language}-2-dragged")

    # Keyboard only: Tab from the card's title link to its "move right" button, Enter.
    page.locator(".opp-card", has=page.locator(".opp-title:text-is('Chiller service')")) \
        .locator(".opp-title").focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert "move-next" in focused
    page.keyboard.press("Enter")
    page.wait_for_function("""(name) => [...document.querySelectorAll('.opp-card')].some(c =>
        c.textContent.includes('Chiller service') &&
        c.closest('.board-col').querySelector('h2').textContent.includes(name))""",
                           arg=names[1])
    assert Opportunity.objects.get(pk=deals["keys"].pk).stage.name_en == "Needs analysis"
    # The keyboard stays on the moved card.
    assert page.evaluate("document.activeElement.closest('.opp-card') && "
                         "document.activeElement.closest('.opp-card').textContent"
                         ".includes('Chiller service')")
    shot(page, f"pipeline-{language}-3-keyboard")

    # A move from a stale board: somebody else moved the card meanwhile.
    from kehu.sales.pipeline import services
    from kehu.sales.pipeline.models import Stage

    opp = Opportunity.objects.get(pk=deals["keys"].pk)
    services.move_opportunity(users["manager1"], opp, Stage.objects.get(name_en="Negotiation"),
                              expected_version=opp.version)
    page.locator(".opp-card", has=page.locator(".opp-title:text-is('Chiller service')")) \
        .locator("button.move-next").click()
    page.wait_for_selector("#board-error")
    assert "manager1" in page.inner_text("#board-error")
    assert Opportunity.objects.get(pk=deals["keys"].pk).stage.name_en == "Negotiation"
    shot(page, f"pipeline-{language}-4-conflict")

    page.click("nav.subnav a[href='/sales/forecast/']")
    page.wait_for_selector("[data-chart=forecast] svg")
    assert "20,000" in page.inner_text("#forecast-months tfoot")
    shot(page, f"pipeline-{language}-5-forecast")


def test_the_board_works_without_javascript(browser, live_server, users, deals, shot):
    """Plain forms: each arrow button and the stage select post, and the board comes back."""
    from kehu.sales.pipeline.models import Opportunity

    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US",
                                  java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server, "sales1")
        page.goto(f"{live_server.url}/sales/pipeline/?owner={users['sales1'].pk}")
        card = page.locator(".opp-card", has=page.locator(".opp-title:text-is('Boiler retrofit')"))
        with page.expect_navigation():
            card.locator("button.move-next").click()
        assert page.url == f"{live_server.url}/sales/pipeline/?owner={users['sales1'].pk}"
        assert "moved to Needs analysis" in page.inner_text(".messages")
        assert Opportunity.objects.get(pk=deals["drag"].pk).stage.name_en == "Needs analysis"
        card = page.locator(".opp-card", has=page.locator(".opp-title:text-is('Boiler retrofit')"))
        card.locator("select[name=stage]").select_option(label="Negotiation")
        with page.expect_navigation():
            card.locator(".move-select button").click()
        assert Opportunity.objects.get(pk=deals["drag"].pk).stage.name_en == "Negotiation"
        shot(page, "pipeline-en-6-no-javascript")
    finally:
        context.close()
