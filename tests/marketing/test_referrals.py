"""Referral codes, referrals recorded by code (feeding influence value), rewards, and the
share of new customers who came by referral."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from kehu.analytics.models import Referral
from kehu.core.errors import NotPermitted, ServiceError
from kehu.customers.services import create_customer, create_transaction
from kehu.marketing.referrals import selectors, services

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 15)


def test_a_new_customer_named_by_code_is_recorded_as_referred(users, customers):
    sales1, east = users["sales1"], customers["east"]
    code = services.issue_referral_code(users["marketing1"], east)
    assert len(code.code) == 8 and set(code.code) <= set(services.ALPHABET)
    assert services.issue_referral_code(sales1, east) == code  # a customer keeps its code
    newcomer = create_customer(users["admin"], {"name": "新客户"}, owner=sales1)
    typed = f" {code.code.lower()[:4]}-{code.code.lower()[4:]} "  # as read out on the phone
    referral = services.record_referral_by_code(sales1, newcomer, typed,
                                                referred_on=dt.date(2026, 5, 1))
    assert (referral.referrer, referral.referred) == (east, newcomer)
    with pytest.raises(ServiceError, match="ZZZZ"):
        services.record_referral_by_code(sales1, customers["east_b"], "ZZZZ")
    # A code of a customer the user may not see is not found either.
    north_code = services.issue_referral_code(users["admin"], customers["north"])
    with pytest.raises(ServiceError):
        services.record_referral_by_code(sales1, customers["east_b"], north_code.code)


def test_a_referral_is_rewarded_once(users, customers):
    east = customers["east"]
    newcomer = create_customer(users["admin"], {"name": "新客户"}, owner=users["sales1"])
    referral = Referral.objects.create(referrer=east, referred=newcomer,
                                       referred_on=TODAY)
    reward = services.grant_referral_reward(users["marketing1"], referral, kind="coupon",
                                            value="50")
    assert (reward.customer, str(reward.value)) == (east, "50.00")
    with pytest.raises(ServiceError, match="already"):
        services.grant_referral_reward(users["marketing1"], referral, kind="gift", value=10)
    other = create_customer(users["admin"], {"name": "又一个"}, owner=users["sales1"])
    second = Referral.objects.create(referrer=east, referred=other, referred_on=TODAY)
    with pytest.raises(ServiceError):
        services.grant_referral_reward(users["marketing1"], second, kind="coupon", value="-1")
    with pytest.raises(NotPermitted):
        services.grant_referral_reward(users["sales1"], second, kind="coupon", value="5")
    assert [x.reward for x in selectors.referrals_made_by(users["sales1"], east)] == [
        None, reward]


def test_the_share_of_new_customers_by_referral_counts_first_purchases(users, customers):
    admin, owner = users["admin"], users["sales1"]
    made = []
    for i, (first, referred) in enumerate([(dt.date(2026, 5, 3), True),
                                           (dt.date(2026, 5, 20), False),
                                           (dt.date(2026, 6, 2), True),
                                           (dt.date(2024, 1, 1), True)]):  # long ago
        c = create_customer(admin, {"name": f"买家{i}"}, owner=owner)
        create_transaction(admin, c, date=first, amount="10")
        create_transaction(admin, c, date=TODAY, amount="10")
        if referred:
            Referral.objects.create(referrer=customers["east"], referred=c, referred_on=first)
        made.append(c)
    share = selectors.referral_share(users["manager1"], today=TODAY)
    by_month = {m.month: (m.new, m.referred) for m in share.months if m.new}
    assert by_month == {dt.date(2026, 5, 1): (2, 1), dt.date(2026, 6, 1): (1, 1)}
    assert (share.new, share.referred, share.percent) == (3, 2, 67)
    assert selectors.referral_share(users["manager2"], today=TODAY).new == 0


def test_the_referrals_page_and_tab(users, customers):
    east = customers["east"]
    newcomer = create_customer(users["admin"], {"name": "新来的客户"}, owner=users["sales1"])
    Referral.objects.create(referrer=east, referred=newcomer, referred_on=TODAY)
    client = Client()
    client.force_login(users["marketing1"])
    page = client.get("/marketing/referrals/").content.decode()
    assert "新来的客户" in page and east.name in page
    answer = client.post(f"/customers/{newcomer.pk}/referral-reward/",
                         {"kind": "gift", "value": "80", "note": "茶叶礼盒", "back": "list"},
                         follow=True)
    assert "Reward recorded." in answer.content.decode()
    tab = client.get(f"/customers/{east.pk}/?tab=referrals").content.decode()
    assert "新来的客户" in tab and "Gift" in tab
    client.post(f"/customers/{east.pk}/referral-code/")
    assert east.referral_codes.get().code in client.get(
        f"/customers/{east.pk}/?tab=referrals").content.decode()
    # The page is for those who read the dashboards; the north team sees none of east.
    other = Client()
    other.force_login(users["manager2"])
    assert "新来的客户" not in other.get("/marketing/referrals/").content.decode()
    service = Client()
    service.force_login(users["service1"])
    assert service.get("/marketing/referrals/").status_code == 404


def test_the_share_after_a_refresh_reads_first_purchases_from_it(users, customers):
    """After a value refresh, first purchases up to its day come from its scores and later
    ones from the purchases after it: the same figures as grouping every purchase."""
    from kehu.analytics.refresh import refresh_values

    admin, owner = users["admin"], users["sales1"]
    for i, (first, referred) in enumerate([(dt.date(2026, 5, 3), True),
                                           (dt.date(2026, 5, 20), False),
                                           (dt.date(2026, 6, 2), True),
                                           (dt.date(2024, 1, 1), True)]):
        c = create_customer(admin, {"name": f"买家{i}"}, owner=owner)
        create_transaction(admin, c, date=first, amount="10")
        if referred:
            Referral.objects.create(referrer=customers["east"], referred=c, referred_on=first)
    refresh_values(admin, as_of=dt.date(2026, 5, 25))
    # After the refresh: a customer new in June, and an old one buying again (not new).
    late = create_customer(admin, {"name": "六月新客"}, owner=owner)
    create_transaction(admin, late, date=dt.date(2026, 6, 5), amount="10")
    Referral.objects.create(referrer=customers["east"], referred=late,
                            referred_on=dt.date(2026, 6, 5))
    old = create_customer(admin, {"name": "老客户"}, owner=owner)
    create_transaction(admin, old, date=dt.date(2025, 1, 9), amount="10")
    refresh_values(admin, as_of=dt.date(2026, 5, 25))
    create_transaction(admin, old, date=dt.date(2026, 6, 9), amount="10")

    share = selectors.referral_share(users["manager1"], today=TODAY)
    by_month = {m.month: (m.new, m.referred) for m in share.months if m.new}
    assert by_month == {dt.date(2026, 5, 1): (2, 1), dt.date(2026, 6, 1): (2, 2)}
    assert late.pk in share.customer_ids and old.pk not in share.customer_ids
    for who in ("admin", "manager1", "manager2", "sales1"):
        grouped = selectors._first_purchases_grouped(users[who], dt.date(2025, 7, 1), TODAY)
        assert sorted(selectors.referral_share(users[who], today=TODAY).customer_ids) == \
            sorted(pk for pk, _first, _referred in grouped)
