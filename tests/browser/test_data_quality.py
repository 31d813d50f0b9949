"""Data quality in a real browser: a stale card confirmed, the duplicate scan as a job, the
review queue and a merge (in Chinese); a privacy officer's export and erasure (in English)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.customers.services import create_customer
from tests.browser.test_ui_flow import sign_in, switch_language

pytestmark = pytest.mark.browser


def test_stale_card_duplicates_and_merge_in_chinese(page, live_server, users, customers, shot,
                                                    job_worker):
    twin = create_customer(users["admin"], {"name": "上海华东贸易", "phone": "021 5555 0101",
                                            "email": "sh@huadong.example"},
                           owner=users["sales1"])
    Customer.objects.filter(pk=customers["east"].pk).update(
        created_at=timezone.now() - timedelta(days=400))
    sign_in(page, live_server, "manager1")
    switch_language(page, "zh-hans")
    page.goto(f"{live_server.url}/customers/{customers['east'].pk}/")
    assert "过期" in page.inner_text(".facts")
    shot(page, "quality-zh-1-stale-card")
    page.click("#confirm-data")
    page.wait_for_selector(".msg.success")
    assert "过期" not in page.inner_text(".facts")

    page.click("nav.mainnav a:has-text('数据质量')")
    page.click("#scan-duplicates")
    page.wait_for_function("() => !document.querySelector('.job[hx-trigger]')", timeout=30_000)
    page.reload()
    shot(page, "quality-zh-2-page")
    page.click("#duplicates-panel a.btn")
    page.wait_for_selector("#pairs")
    assert "电话号码相同" in page.inner_text("#pairs")
    shot(page, "quality-zh-3-queue")
    page.click("#pairs a.btn:has-text('比较')")
    page.wait_for_selector("#merge-form")
    page.check("input[name=f_email][value=b]")
    shot(page, "quality-zh-4-compare")
    page.click("#merge")
    page.wait_for_url(re.compile(r".*/customers/\d+/$"))
    assert "已合并" in page.inner_text(".messages")
    kept = Customer.objects.get(pk=customers["east"].pk)
    assert kept.email == "sh@huadong.example"
    assert not Customer.objects.filter(pk=twin.pk).exists()
    shot(page, "quality-zh-5-merged")


def test_privacy_officer_exports_and_erases(page, live_server, users, customers, shot):
    officer = users["sales2"]
    officer.privacy_officer = True
    officer.save()
    sign_in(page, live_server, "sales2")
    page.click("nav.mainnav a:has-text('Privacy')")
    page.fill("#privacy-q", "info@huadong")
    page.click("form[role=search] button")
    page.click("a:has-text('上海华东贸易有限公司')")
    page.wait_for_selector("#subject-export")
    shot(page, "privacy-en-1-person")
    with page.expect_download() as download:
        page.click("#subject-export")
    assert download.value.suggested_filename.endswith(".json")
    page.fill("#erase-ref", "REQ-1")
    page.click("#erase-customer")  # without the confirmation box
    page.wait_for_selector(".msg.error")
    page.check("input[name=confirm]")
    page.click("#erase-customer")
    page.wait_for_selector(".msg.success")
    shot(page, "privacy-en-2-erased")
    assert Customer.objects.get(pk=customers["east"].pk).name.startswith("Erased customer")
