"""Under kehu's Content-Security-Policy (no inline script, no inline style) every main page
works in a real browser: nothing is refused, nothing logs an error, the value dashboard's
charts draw and their tooltips show, htmx search swaps the table, the API docs load."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_ui_flow import sign_in, switch_language
from tests.browser.test_value_pages import scored_firm  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser

# Each refused resource fires securitypolicyviolation; report it on the console, where the
# test collects it with every other error.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
                + ` in ${e.sourceFile || document.location.pathname}:${e.lineNumber}`);
});
"""


@pytest.fixture
def problems(page):
    """Console errors, CSP violations and uncaught exceptions of every page visited."""
    seen: list[str] = []
    page.add_init_script(REPORT_VIOLATIONS)

    def on_console(message) -> None:
        # A 404 (the not-found page itself, the admin's /favicon.ico) is not a problem here.
        if message.type == "error" and "status of 404" not in message.text:
            seen.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: seen.append(f"{page.url}: {e}"))
    return seen


def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status < 500, url
    assert "script-src 'self'" in response.headers.get("content-security-policy", ""), url
    page.wait_for_load_state("networkidle")


MAIN_PAGES = [
    "/", "/customers/", "/customers/?q=shanghai", "/customers/new/", "/value/",
    "/value/settings/", "/value/models/", "/data/quality/",
    "/data/duplicates/", "/data/import/", "/data/import/batches/", "/data/export/",
    "/data/privacy/", "/audit/", "/audit/?action=signin", "/accounts/tokens/",
    "/accounts/password/", "/accounts/locks/", "/admin/", "/admin/accounts/user/",
    "/no/such/page/",
]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_no_page_breaks_the_policy(page, problems, live_server, users, customers,
                                    scored_firm, shot, language):  # noqa: F811
    users["admin"].is_staff = True
    users["admin"].is_superuser = True
    users["admin"].save()
    sign_in(page, live_server, "admin")
    if language == "zh-hans":
        switch_language(page, "zh-hans")
    card = f"/customers/{customers['east'].pk}/"
    pages = [*MAIN_PAGES, card, f"{card}?tab=value", f"{card}?tab=history",
             f"{card}edit/", f"/admin/accounts/user/{users['sales1'].pk}/change/"]
    for url in pages:
        visit(page, live_server.url + url)
    assert not problems, "\n".join(problems)


def test_the_value_charts_draw_and_their_tooltips_show(page, problems, live_server, users,
                                                       scored_firm, shot):  # noqa: F811
    sign_in(page, live_server, "manager1")
    visit(page, f"{live_server.url}/value/")
    page.wait_for_selector("[data-chart=markov] svg")
    for chart in ("equity", "segments", "matrix", "whale", "markov"):
        svg = page.locator(f"[data-chart={chart}] svg")
        assert svg.count() == 1, chart
        # Drawn: the chart has shapes, not an empty canvas.
        assert page.locator(f"[data-chart={chart}] svg path").count() > 3, chart
    # The tooltip is drawn by the chart (no HTML, no inline style): hovering a dot of the
    # value matrix shows that customer's name as text.
    page.emulate_media(reduced_motion="reduce")
    page.reload()
    page.wait_for_selector("[data-chart=matrix] svg")
    matrix = page.locator("[data-chart=matrix]")
    matrix.scroll_into_view_if_needed()
    box = matrix.bounding_box()
    name, x, y = page.evaluate("""() => {
        const chart = echarts.getInstanceByDom(document.querySelector('[data-chart=matrix]'));
        const series = chart.getOption().series;
        const last = series[series.length - 1].data;
        const point = last[last.length - 1];
        const [x, y] = chart.convertToPixel({seriesIndex: series.length - 1},
                                            [point[0], point[1]]);
        return [point[2], x, y];
    }""")
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.wait_for_function(
        "name => document.querySelector('[data-chart=matrix] svg').textContent.includes(name)",
        arg=name)
    shot(page, "csp-value-matrix-tooltip", full_page=False)
    assert not problems, "\n".join(problems)


def test_htmx_search_and_the_busy_indicator_work(page, problems, live_server, users,
                                                 customers):
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/customers/")
    page.fill("input[name=q]", "beijing")
    page.wait_for_function(
        "() => document.querySelectorAll('#customer-table tbody tr').length === 1")
    assert "北京华北机械厂" in page.inner_text("#customer-table")
    # htmx was told not to inject its own <style>; kehu.css hides the indicator.
    assert page.locator("head style").count() == 0
    page.wait_for_function(
        "() => getComputedStyle(document.getElementById('table-busy')).opacity === '0'")
    assert not problems, "\n".join(problems)


def test_the_api_docs_load_under_the_policy(page, problems, live_server, users, shot):
    sign_in(page, live_server, "sales1")
    visit(page, f"{live_server.url}/api/v1/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    assert page.locator(".swagger-ui .opblock").count() > 10
    assert re.search(r"kehu API", page.inner_text(".swagger-ui .info"))
    # Open an operation (its parameters, example answers with highlighted JSON) and the
    # Authorize dialog: Swagger UI styles them through the DOM, which the policy allows.
    page.click(".opblock-get .opblock-summary >> nth=0")
    page.wait_for_selector(".opblock-body .responses-wrapper")
    page.click("button:has-text('Try it out')")
    page.wait_for_selector(".opblock-body .execute")
    page.click(".btn.authorize")
    page.wait_for_selector(".modal-ux")
    page.wait_for_timeout(300)
    shot(page, "csp-api-docs", full_page=False)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_500_page_shows_the_reference_to_quote(page, problems, live_server, users,
                                                  monkeypatch, shot, language):
    sign_in(page, live_server, "sales1")
    if language == "zh-hans":
        switch_language(page, "zh-hans")

    def boom(*args, **kwargs):
        raise RuntimeError("the list broke")

    monkeypatch.setattr("kehu.customers.selectors.customer_page", boom)
    response = page.goto(f"{live_server.url}/customers/")
    assert response.status == 500
    assert page.inner_text("#request-id") == response.headers["x-request-id"]
    heading = "服务器错误" if language == "zh-hans" else "Server error"
    assert page.inner_text("h1") == heading
    shot(page, f"{language}-500")
    # The page's own 500 is the only error the console reports.
    assert all("status of 500" in p for p in problems), problems


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_admin_unlocks_a_name_locked_by_strangers(page, problems, live_server, users, shot,
                                                     language):
    from django.test import Client

    for i in range(4):
        stranger = Client(REMOTE_ADDR=f"198.51.100.{i + 1}")
        for _ in range(5):
            stranger.post("/accounts/login/", {"username": "sales1", "password": "guess"})
    # The administrator signs in from the browser's address: strangers did not lock it.
    sign_in(page, live_server, "admin")
    if language == "zh-hans":
        switch_language(page, "zh-hans")
    page.click(".usermenu summary")
    page.click("a[href='/accounts/locks/']")
    page.wait_for_selector("#locked-names")
    assert page.locator("#locked-addresses tbody tr").count() == 4
    assert "sales1" in page.inner_text("#locked-names")
    shot(page, f"{language}-sign-in-locks")
    with page.expect_navigation():
        page.click("#locked-names button")
    assert page.locator("#locked-names tbody tr td.muted").count() == 1
    assert page.locator(".msg.success").count() == 1
    shot(page, f"{language}-sign-in-unlocked")
    page.goto(f"{live_server.url}/audit/?action=signin")
    # The unlock is in the audit log under its name in the reader's language.
    unlocked = "解除某用户名的登录锁定" if language == "zh-hans" else \
        "Unlocked sign-in for a user name"
    assert page.locator(f"td:has-text('{unlocked}')").count() == 1
    shot(page, f"{language}-audit-sign-ins")
    page.goto(f"{live_server.url}/accounts/password/")
    shot(page, f"{language}-password-change")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_lock_page_says_which_lock_and_for_how_long(page, problems, live_server, users,
                                                        shot, language):
    page.goto(f"{live_server.url}/accounts/login/")
    if language == "zh-hans":
        switch_language(page, "zh-hans")
    for _ in range(5):
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", "guess")
        with page.expect_navigation():
            page.click("main button[type=submit]")
    page.wait_for_selector("#address-locked")
    assert page.locator("#name-locked").count() == 0
    assert ("15 分钟" if language == "zh-hans" else "15 minutes") in page.inner_text("main")
    shot(page, f"{language}-sign-in-locked")
    # The lock page itself answers 429, which the console reports; nothing else may.
    assert all("status of 429" in p for p in problems), problems
