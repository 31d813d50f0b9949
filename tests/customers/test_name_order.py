"""Customer lists in name order sort Chinese names by pinyin, among Latin names in one
alphabet, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest

from kehu.customers.models import Customer, CustomerKind
from kehu.customers.search import sort_key
from kehu.customers.selectors import CustomerFilters, customer_page
from kehu.customers.services import create_customer, update_customer

pytestmark = pytest.mark.django_db


def _names(user, *, limit=50, descending=False):
    names, cursor = [], None
    while True:
        page = customer_page(user, CustomerFilters(), cursor=cursor, limit=limit,
                             descending=descending)
        names += [c.name for c in page.items]
        if not page.next_cursor:
            return names
        cursor = page.next_cursor


def test_polyphonic_surnames_read_as_surnames_for_persons_only():
    assert sort_key("单田芳", person=True) == "shan tian fang"
    assert sort_key("曾国藩", person=True) == "zeng guo fan"
    assert sort_key("解缙", person=True) == "xie jin"
    assert sort_key("单位食堂") == "dan wei shi tang"  # an organisation's 单 is dan
    assert sort_key("Acme 北京 Co.") == "acme bei jing co."


def test_chinese_and_latin_names_sort_in_one_alphabet_across_pages(users):
    admin, owner = users["admin"], users["sales1"]
    for name, kind in [("Zeta", "organisation"), ("张伟", "person"), ("北京华联", "organisation"),
                       ("Acme", "organisation"), ("王芳", "person"), ("曾国藩", "person"),
                       ("单田芳", "person"), ("解缙", "person"), ("李白", "person"),
                       ("梁山", "organisation"), ("Shanghai Ltd", "organisation")]:
        create_customer(admin, {"name": name, "kind": kind}, owner=owner)
    expected = ["Acme", "北京华联", "李白", "梁山", "单田芳", "Shanghai Ltd", "王芳", "解缙",
                "曾国藩", "Zeta", "张伟"]
    assert _names(admin) == expected
    assert _names(admin, limit=3) == expected  # each page boundary keeps the order
    assert _names(admin, limit=4, descending=True) == expected[::-1]
    assert _names(owner, limit=2) == expected  # a sales user's own book, by owner index


def test_equal_keys_tie_break_by_id_and_a_rename_moves_the_customer(users):
    admin, owner = users["admin"], users["sales1"]
    first = create_customer(admin, {"name": "王伟", "kind": "person"}, owner=owner)
    second = create_customer(admin, {"name": "汪伟", "kind": "person"}, owner=owner)  # wang wei too
    third = create_customer(admin, {"name": "王卫", "kind": "person"}, owner=owner)
    page = customer_page(admin, CustomerFilters(), limit=2)
    assert [c.pk for c in page.items] == [first.pk, second.pk]
    rest = customer_page(admin, CustomerFilters(), limit=2, cursor=page.next_cursor)
    assert [c.pk for c in rest.items] == [third.pk]
    update_customer(admin, first, {"name": "Alpha"}, expected_version=first.version)
    assert Customer.objects.get(pk=first.pk).name_sort == "alpha"
    assert [c.pk for c in customer_page(admin, CustomerFilters()).items][0] == first.pk


def test_the_api_lists_in_pinyin_order(users, client):
    from kehu.accounts.tokens import create_token

    for name in ["Zeta", "张三", "北京", "Acme"]:
        create_customer(users["admin"], {"name": name, "kind": CustomerKind.ORGANISATION},
                        owner=users["sales1"])
    _, secret = create_token(users["admin"], "t")
    body = client.get("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    assert [c["name"] for c in body["items"]] == ["Acme", "北京", "Zeta", "张三"]
