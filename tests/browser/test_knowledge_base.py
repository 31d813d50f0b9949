"""The knowledge base in a real browser: service staff write an article in Chinese, find it
by a word inside a longer Chinese text, read it, and edit it; then the same pages in
Chinese. Screenshots in test-artifacts/kb-*.png."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_ui_flow import sign_in, switch_language

pytestmark = pytest.mark.browser

ARTICLE_URL = re.compile(r".*/service/kb/\d+/$")


def test_service_staff_write_find_and_edit_an_article_in_both_languages(page, live_server,
                                                                         users, shot):
    from kehu.service.knowledge.services import create_article

    create_article(users["manager1"], {
        "title": "Router drops the Wi-Fi connection", "language": "en",
        "problem": "The wireless network disconnects every few minutes.",
        "solution": "Update the router's firmware."}, tags="network")
    sign_in(page, live_server, "service1")
    page.goto(f"{live_server.url}/service/kb/")
    page.click("text=Write an article")
    page.fill("input[name=title]", "打印机卡纸")
    page.select_option("select[name=language]", "zh-hans")
    page.fill("input[name=tags]", "打印机，硬件")
    page.fill("textarea[name=problem]", "打印到第三页时打印机卡纸，指示灯闪烁。")
    page.fill("textarea[name=solution]", "")
    page.click("main form button:has-text('Save')")
    # The solution is required: the form says so on the field and keeps the input.
    assert "This field is required." in page.inner_text("main form")
    assert page.input_value("input[name=title]") == "打印机卡纸"
    page.fill("textarea[name=cause]", "搓纸轮磨损。")
    page.fill("textarea[name=solution]", "更换搓纸轮，清洁进纸通道。")
    page.click("main form button:has-text('Save')")
    page.wait_for_url(ARTICLE_URL)
    assert "Article saved." in page.inner_text("body")
    assert "搓纸轮磨损。" in page.inner_text("#cause")
    shot(page, "kb-article-en")

    page.goto(f"{live_server.url}/service/kb/")
    page.fill("input[name=q]", "卡纸")
    # Counted once the results have loaded: a count taken while the page still loads sees
    # no article at all.
    with page.expect_navigation():
        page.click("form[role=search] button[type=submit]")
    items = page.locator(".kb-item")
    assert items.count() == 1 and "打印机卡纸" in items.first.inner_text()
    assert "1 article found" in page.inner_text("#kb-count")
    shot(page, "kb-search-en")

    page.click("text=打印机卡纸")
    page.click("text=Edit article")
    page.fill("textarea[name=solution]", "更换搓纸轮。换用 70 克纸。")
    page.click("main form button:has-text('Save')")
    page.wait_for_url(ARTICLE_URL)
    assert "换用 70 克纸" in page.inner_text("#solution")
    assert "version 2" in page.inner_text("body")

    switch_language(page, "zh-hans")
    assert "问题" in page.inner_text("#problem h2") and "解决方案" in page.inner_text(
        "#solution h2")
    assert "编辑文章" in page.inner_text("body")
    shot(page, "kb-article-zh")
    page.goto(f"{live_server.url}/service/kb/?q=wireless+network")
    assert page.locator(".kb-item").count() == 1
    assert "找到 1 篇文章" in page.inner_text("#kb-count")
    assert "搜索问题和解决方案" in page.inner_text("form[role=search]")
    shot(page, "kb-search-zh")


def test_the_ticket_form_suggests_articles_as_it_is_typed_and_a_solved_ticket_becomes_one(
        page, live_server, users, customers, shot):
    from kehu.service.knowledge.services import create_article
    from kehu.service.tickets import services as tickets

    create_article(users["manager1"], {"title": "打印机卡纸", "problem": "打印到一半卡纸。",
                                       "solution": "清理切刀纸屑。"})
    solved = tickets.open_ticket(users["service1"], customers["east"], subject="扫码枪无反应",
                                 description="扫码枪接上后没有反应。")
    tickets.change_status(users["service1"], solved, "resolved",
                          resolution="在设置里把扫码枪切换为 USB 键盘模式。")
    sign_in(page, live_server, "service1")
    page.goto(f"{live_server.url}/service/tickets/new/?customer={customers['east'].pk}")
    page.fill("input[name=subject]", "收银机")
    page.locator("input[name=subject]").press_sequentially("打印机卡纸")
    suggestions = page.locator("#kb-suggestions")
    suggestions.locator("a:has-text('打印机卡纸')").wait_for()
    assert "Articles that may solve it" in suggestions.inner_text()
    shot(page, "kb-ticket-form-en")
    switch_language(page, "zh-hans")
    page.locator("textarea[name=description]").press_sequentially("打印机卡纸")
    suggestions.locator("a:has-text('打印机卡纸')").wait_for()
    assert "可能解决此问题的文章" in suggestions.inner_text()
    shot(page, "kb-ticket-form-zh")

    page.goto(f"{live_server.url}/service/tickets/{solved.pk}/")
    page.click("#article-from-ticket button")
    page.wait_for_url(re.compile(r".*/service/kb/from-ticket/$"))
    assert page.input_value("input[name=title]") == "扫码枪无反应"
    page.fill("textarea[name=problem]", "扫码枪接上后没有反应。")
    shot(page, "kb-article-from-ticket-zh")
    page.click("main form button[type=submit]")
    page.wait_for_url(ARTICLE_URL)
    page.goto(f"{live_server.url}/service/tickets/{solved.pk}/")
    assert "扫码枪无反应" in page.inner_text("#ticket-linked-articles")
    assert "解决过此工单的文章" in page.inner_text("#ticket-articles")
    shot(page, "kb-ticket-page-zh")
