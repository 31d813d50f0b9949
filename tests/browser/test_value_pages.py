"""The value dashboard and the value panel of a card, in a real browser, in English and in
Chinese: the charts draw, every chart has its table, and a dot of the value matrix opens
its customer's card."""

from __future__ import annotations

import re

import pytest

from kehu.analytics.refresh import refresh_values
from kehu.value.datasets import simulate_transactions
from tests.browser.test_ui_flow import sign_in, switch_language

pytestmark = pytest.mark.browser


@pytest.fixture
def scored_firm(users, customers):
    """Two hundred customers of team East with two years of purchases, scored."""
    from decimal import Decimal

    from kehu.customers.models import Customer, Transaction

    log = simulate_transactions(200, seed=11, start="2024-06-01", as_of="2026-06-30")
    owners = [users["sales1"], users["sales1b"]]
    firm = Customer.objects.bulk_create([
        Customer(name=f"华东客户{i:03d}", owner=owners[i % 2], team_id=owners[i % 2].team_id,
                 city="上海") for i in range(200)])
    Transaction.objects.bulk_create([
        Transaction(customer=firm[int(c) - 1], date=d.astype(object),
                    amount=Decimal(f"{a:.2f}"), cost=Decimal(f"{a * 0.6:.2f}"))
        for c, d, a in zip(log.customer_id, log.date, log.amount, strict=True)])
    import datetime as dt

    refresh_values(users["admin"], as_of=dt.date(2026, 6, 30))
    return firm


def _check_dashboard(page, shot, name: str) -> None:
    page.wait_for_selector("[data-chart=equity] svg")
    for chart in ("equity", "segments", "matrix", "whale", "markov"):
        assert page.locator(f"[data-chart={chart}] svg").count() == 1, chart
    shot(page, name)
    # Each chart's table is there for whoever cannot read the chart.
    page.locator("details.chart-table summary").first.click()
    assert page.locator("details.chart-table[open] table tbody tr").count() > 1


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_dashboard_draws_its_charts_and_the_matrix_opens_a_card(page, live_server, users,
                                                                    scored_firm, shot,
                                                                    language):
    sign_in(page, live_server, "manager1")
    if language == "zh-hans":
        switch_language(page, "zh-hans")
    page.goto(f"{live_server.url}/value/")
    _check_dashboard(page, shot, f"{language}-value-dashboard")
    heading = "客户资产" if language == "zh-hans" else "Customer equity"
    assert heading in page.inner_text("main")
    # The value matrix: clicking a customer's dot opens their card.
    # Drawn without animation, so the dot is where it ends up when the click comes; the
    # last series' last dot is drawn on top of any other.
    page.emulate_media(reduced_motion="reduce")
    page.reload()
    page.wait_for_selector("[data-chart=matrix] svg")
    page.locator("[data-chart=matrix]").scroll_into_view_if_needed()
    box = page.locator("[data-chart=matrix]").bounding_box()
    x, y = page.evaluate("""() => {
        const chart = echarts.getInstanceByDom(document.querySelector('[data-chart=matrix]'));
        const series = chart.getOption().series;
        const last = series[series.length - 1].data;
        const point = last[last.length - 1];
        return chart.convertToPixel({seriesIndex: series.length - 1}, [point[0], point[1]]);
    }""")
    # Hovering the dot shows its customer's name as text drawn in the chart (the trimmed
    # ECharts build has the tooltip), never as HTML.
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.wait_for_function("""() => [...document.querySelectorAll('[data-chart=matrix] svg text')]
        .some(t => t.textContent.startsWith('华东客户'))""")
    assert page.locator("[data-chart=matrix] div[style*='position: absolute'] b").count() == 0
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_url(re.compile(r".*/customers/\d+/$"), timeout=30_000)
    page.wait_for_selector(".value-panel")
    shot(page, f"{language}-value-card")
    label = "既成价值" if language == "zh-hans" else "Realised value"
    assert label in page.inner_text(".value-panel")
    page.click(".tabs a[href='?tab=value']")
    page.wait_for_selector("#tab-value .explain")
    shot(page, f"{language}-value-tab")


def test_refresh_now_waits_for_the_worker_and_then_shows_the_scores(page, live_server, users,
                                                                     customers, shot,
                                                                     request):
    from decimal import Decimal

    from django.utils import timezone

    from kehu.customers.models import Transaction

    Transaction.objects.create(customer=customers["east"], date=timezone.localdate(),
                               amount=Decimal("120"), cost=Decimal("80"))
    sign_in(page, live_server, "analyst1")
    page.goto(f"{live_server.url}/value/")
    assert "No value refresh has run yet" in page.inner_text("main")
    page.click("#refresh-value")
    # No worker runs yet: the job waits in the queue, and the page says for what.
    page.wait_for_selector(".job[hx-trigger]")
    assert "Waiting for the worker" in page.inner_text(".job")
    assert page.is_disabled("#refresh-value")
    shot(page, "value-refresh-1-waiting")
    request.getfixturevalue("job_worker")  # now one starts
    # The bar polls until the job is done, then the page reloads with the scores.
    page.wait_for_selector("[data-chart=equity] svg", timeout=60_000)
    assert page.locator(".job[hx-trigger]").count() == 0
    assert "No value refresh has run yet" not in page.inner_text("main")
    shot(page, "value-refresh-2-done")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_model_comparison_draws_each_models_forecast_against_the_actual(
        page, live_server, users, scored_firm, shot, language):
    sign_in(page, live_server, "analyst1")
    if language == "zh-hans":
        switch_language(page, "zh-hans")
    page.goto(f"{live_server.url}/value/")
    page.click("a[href='/value/models/']")
    page.wait_for_selector("[data-chart=holdout] svg")
    main = page.inner_text("main")
    assert ("购买模型比较" if language == "zh-hans" else "Purchase model comparison") in main
    # One row per model in the table, and in the chart the actual curve and each model's.
    rows = page.locator("#model-table tbody tr")
    assert rows.count() == 3
    assert {rows.nth(i).locator("td").first.inner_text() for i in range(3)} == {
        "BG/NBD", "MBG/NBD", "Pareto/NBD"}
    series = page.evaluate("""() => echarts.getInstanceByDom(
        document.querySelector('[data-chart=holdout]')).getOption().series.map(s => s.name)""")
    actual = "实际" if language == "zh-hans" else "Actual"
    assert series[0] == actual and len(series) == 4
    chosen = "已选用" if language == "zh-hans" else "Chosen"
    assert chosen in page.inner_text("#model-table")
    shot(page, f"{language}-value-models")
    page.locator("details.chart-table summary").first.click()
    assert page.locator("details.chart-table[open] table tbody tr").count() > 10
    assert page.locator("#model-kept").count() == 0  # this refresh compared the models
    # A week later, on the same purchases, the refresh keeps the choice and says so.
    import datetime as dt

    refresh_values(users["admin"], as_of=dt.date(2026, 7, 7))
    page.reload()
    kept = page.inner_text("#model-kept")
    assert "2026-06-30" in kept and "28" in kept and "5%" in kept
    assert ("比较" if language == "zh-hans" else "compared again") in kept
    assert page.locator("#model-table tbody tr").count() == 3
    shot(page, f"{language}-value-models-kept")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_manager_gives_the_owners_of_customers_at_risk_a_task(page, live_server, users,
                                                                scored_firm, shot, language):
    from kehu.analytics.models import CustomerValue
    from kehu.tasks.models import Task

    zh = language == "zh-hans"
    CustomerValue.objects.update(at_risk=False)
    CustomerValue.objects.filter(customer__in=scored_firm[:4]).update(at_risk=True)
    sign_in(page, live_server, "manager1")
    if zh:
        switch_language(page, "zh-hans")
    page.goto(f"{live_server.url}/value/#at-risk")
    section = page.locator("#at-risk")
    boxes = section.locator("input[type=checkbox]")
    assert boxes.count() == 4
    boxes.nth(0).check()
    boxes.nth(1).check()
    section.locator("form.list-tasks summary").click()
    section.locator("input[name='at_risk-title']").fill("本周回访" if zh else "Call this week")
    shot(page, f"{language}-value-list-tasks", full_page=False)
    with page.expect_navigation():
        section.locator("button[value=ticked]").click()
    said = page.inner_text(".messages")
    assert ("已创建 2 项任务" if zh else "2 tasks made.") in said
    tasks = list(Task.objects.filter(origin="list:at_risk").select_related("customer"))
    assert len(tasks) == 2 and all(t.assignee_id == t.customer.owner_id for t in tasks)
    # The owner finds the task on their workbench.
    owner = tasks[0].assignee.username
    page.context.clear_cookies()
    sign_in(page, live_server, owner)
    page.goto(f"{live_server.url}/")
    assert ("本周回访" if zh else "Call this week") in page.inner_text("main")
    shot(page, f"{language}-value-list-task-on-workbench", full_page=False)
