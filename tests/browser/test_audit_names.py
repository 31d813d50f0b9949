"""The audit log in a real browser, in English and in Chinese: customers by name, linked to
their card; a list read names its first customers and how many more; an erased customer
is never named."""

from __future__ import annotations

import pytest

from tests.browser.test_ui_flow import sign_in, switch_language

pytestmark = pytest.mark.browser


def test_the_audit_log_names_customers_in_both_languages(page, live_server, users, customers,
                                                          shot):
    from kehu.audit.services import record, record_list
    from kehu.customers.services import create_customer
    from kehu.dataio.privacy.services import erase_customer

    east, north = customers["east"], customers["north"]
    more = [create_customer(users["admin"], {"name": name}, owner=users["sales1"])
            for name in ["张伟商贸", "Acme Trading", "王芳咨询", "曾氏五金", "Zeta Foods"]]
    record(users["sales1"], "customer.view", obj=east)
    record_list(users["sales1"], "customers", [c.pk for c in [north, *more]])
    record(users["sales2"], "customer.view", obj=north)
    admin = users["admin"]
    admin.privacy_officer = True
    admin.save(update_fields=["privacy_officer"])
    erase_customer(admin, east, reference="REQ-7")

    sign_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/audit/?action=customer.")
    table = page.inner_text("table")
    assert north.name in table and "and 1 more" in table
    assert f"erased customer {east.pk}" in table and "上海华东贸易有限公司" not in table
    assert page.is_visible(f"table a[href='/customers/{north.pk}/']:has-text('{north.name}')")
    shot(page, "audit-names-en")

    switch_language(page, "zh-hans")
    table = page.inner_text("table")
    assert north.name in table and "等另外 1 个" in table
    assert f"已删除个人信息的客户 {east.pk}" in table and "上海华东贸易有限公司" not in table
    shot(page, "audit-names-zh")
