"""The import wizard in a real browser, with a GBK file of Chinese names, in English and in
Chinese: upload, match columns, preview, import in the background, result, undo."""

from __future__ import annotations

import re

import pytest

from kehu.customers.models import Customer
from tests.browser.test_ui_flow import sign_in, switch_language

pytestmark = pytest.mark.browser

ROWS = [
    ("K-001", "上海新星贸易有限公司", "+86 139-0000-0001", "info@xinxing.cn", "上海", "sales1"),
    ("K-002", "杭州远大机械厂", "13900000002", "", "杭州", "sales1"),
    ("K-003", "王晓东", "0086 139 0000 0003", "wxd@example.cn", "苏州", "sales1b"),
    ("K-004", "宁波港口物流集团", "13900000004", "port@nb.example", "宁波", "sales1"),
]


def gbk_file(tmp_path, rows, name="客户名单.csv"):
    lines = ["客户编号,公司名称,手机,邮箱,城市,业务员"] + [",".join(r) for r in rows]
    path = tmp_path / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return path


def upload(page, live_server, path, kind="customers"):
    page.goto(f"{live_server.url}/data/import/")
    page.select_option("select[name=kind]", kind)
    page.set_input_files("input[name=file]", str(path))
    page.click("form.upload-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/columns/$"))


def test_import_wizard_in_english(page, live_server, users, customers, shot, tmp_path,
                                  monkeypatch, job_worker):
    # A pause after the written chunk, inside the import's transaction: long enough to see
    # the progress bar that htmx polls.
    monkeypatch.setenv("KEHU_IMPORT_PAUSE_AFTER_CHUNK", "3")
    sign_in(page, live_server, "manager1")
    page.click("nav.mainnav a:has-text('Import')")
    shot(page, "import-en-1-upload")
    upload(page, live_server, gbk_file(tmp_path, ROWS))
    assert page.input_value("select[name=col1]") == "name"  # 公司名称, matched automatically
    assert page.input_value("select[name=col5]") == "owner"  # 业务员
    assert "上海新星贸易有限公司" in page.inner_text("table.mapping")
    page.select_option("select[name=col4]", "")  # ignore the city column
    page.fill("input[name=save_as]", "客户名单")
    shot(page, "import-en-2-columns")
    page.click("form button.primary")
    page.wait_for_url(re.compile(r".*/preview/$"))
    assert "These rows are fine" in page.inner_text("main")
    assert "王晓东" in page.inner_text("table.preview")
    shot(page, "import-en-3-preview")
    page.click("#start-import")
    page.wait_for_selector(".job[hx-trigger] progress")
    page.wait_for_function("() => document.querySelector('.job-line')"
                           "&& document.querySelector('.job-line').innerText.includes('Writing')")
    shot(page, "import-en-4-progress")
    page.wait_for_selector("#import-result", timeout=30_000)
    assert "4 rows imported: 4 created, 0 updated." in page.inner_text("#import-result")
    shot(page, "import-en-5-result")
    assert Customer.objects.get(external_id="K-003").owner == users["sales1b"]
    assert Customer.objects.get(external_id="K-001").city == ""
    page.click("#import-result button.danger")
    page.wait_for_selector(".msg.success")
    assert "undone" in page.inner_text(".messages")
    shot(page, "import-en-6-undone")
    assert not Customer.objects.filter(external_id__startswith="K-").exists()


def test_import_wizard_in_chinese_lists_every_bad_row(page, live_server, users, customers,
                                                      shot, tmp_path, job_worker):
    sign_in(page, live_server, "manager1")
    switch_language(page, "zh-hans")
    rows = [*ROWS]
    rows[1] = ("K-002", "杭州远大机械厂", "13900000002", "不是邮箱", "杭州", "无名氏")
    rows.append(("K-001", "上海新星贸易", "", "", "上海", "sales1"))
    page.goto(f"{live_server.url}/data/import/")
    assert page.is_visible("text=导入数据")
    upload(page, live_server, gbk_file(tmp_path, rows, name="有错误的名单.csv"))
    assert "匹配列" in page.inner_text("h1")
    shot(page, "import-zh-2-columns")
    page.click("form button.primary")
    page.wait_for_url(re.compile(r".*/preview/$"))
    assert page.locator("td.cell-error").count() == 3  # e-mail, owner, repeated id
    shot(page, "import-zh-3-preview")
    page.click("#start-import")
    page.wait_for_selector("#import-errors", timeout=30_000)
    errors = page.inner_text("#import-errors")
    assert "不是邮箱" in errors and "无名氏" in errors and "与本文件第 2 行重复" in errors
    assert "未导入任何数据" in page.inner_text("#import-result")
    shot(page, "import-zh-4-refused")
    assert not Customer.objects.filter(external_id__startswith="K-").exists()
