"""Campaigns: target lists (dynamic and frozen, exact counts, scoped), the hold-out group,
the uplift and its interval by hand, attribution windows, personal-selling tasks."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.analytics.models import CustomerValue, ValueRefresh
from kehu.core.errors import NotPermitted, ServiceError, StaleVersion
from kehu.customers.services import create_customer, create_transaction
from kehu.marketing.campaigns import holdout, selectors, services, uplift
from kehu.marketing.campaigns.models import (
    CampaignContact,
    CampaignStatus,
    ContactGroup,
    ContactOutcome,
)
from kehu.sales.services import log_activity
from kehu.tasks.models import Task, TaskStatus

pytestmark = pytest.mark.django_db


# Pure parts ---------------------------------------------------------------------------------

def test_holdout_assignment_is_reproducible_and_near_the_share():
    seed = 123456789
    first = [holdout.is_held_out(seed, c, 20) for c in range(1, 5001)]
    again = [holdout.is_held_out(seed, c, 20) for c in range(1, 5001)]
    assert first == again
    # 20% of 5000 = 1000, binomial sd ≈ 28: a fair hash lands well inside ±120.
    assert 880 < sum(first) < 1120
    # Another seed draws another group; a larger share only adds customers to it.
    assert first != [holdout.is_held_out(seed + 1, c, 20) for c in range(1, 5001)]
    wider = [holdout.is_held_out(seed, c, 30) for c in range(1, 5001)]
    assert all(w for f, w in zip(first, wider, strict=True) if f)
    assert not any(holdout.is_held_out(seed, c, 0) for c in range(1, 200))
    assert all(holdout.is_held_out(seed, c, 100) for c in range(1, 200))
    with pytest.raises(ValueError):
        holdout.is_held_out(seed, 1, 120)


def test_rate_difference_by_hand():
    # 30/200 = 0.15 against 10/100 = 0.10; se = sqrt(.15*.85/200 + .1*.9/100)
    #  = sqrt(0.0006375 + 0.0009) = 0.0392110; z(97.5%) = 1.959964.
    interval = uplift.rate_difference(30, 200, 10, 100)
    assert interval.estimate == pytest.approx(0.05)
    assert interval.low == pytest.approx(0.05 - 1.959964 * 0.0392110, abs=1e-6)
    assert interval.high == pytest.approx(0.05 + 1.959964 * 0.0392110, abs=1e-6)
    assert not interval.significant  # the interval holds zero: could be chance
    strong = uplift.rate_difference(300, 1000, 100, 1000)
    assert strong.significant and strong.direction == 1
    assert uplift.rate_difference(1, 10, 0, 0) is None


def test_welch_interval_by_hand():
    treated = [10.0, 12.0, 14.0, 16.0]  # mean 13, variance 20/3
    held = [9.0, 11.0, 10.0]  # mean 10, variance 1
    interval = uplift.mean_difference(treated, held)
    a, b = (20 / 3) / 4, 1 / 3
    se = math.sqrt(a + b)
    df = (a + b) ** 2 / (a * a / 3 + b * b / 2)  # Welch–Satterthwaite: 4 / 0.98148
    assert df == pytest.approx(4.0755, abs=1e-3)
    from scipy import stats

    t = stats.t.ppf(0.975, df)
    assert 2.571 < t < 2.776  # the t table: 2.776 at 4 df, 2.571 at 5
    assert interval.estimate == pytest.approx(3.0)
    assert interval.low == pytest.approx(3 - t * se) and interval.high == pytest.approx(
        3 + t * se)
    # se = sqrt(2) and t ≈ 2.76: 3 ± 3.90 holds zero, so four and three customers cannot
    # tell a 3.00 difference from chance.
    assert interval.low == pytest.approx(-0.898, abs=1e-3) and not interval.significant
    assert uplift.mean_difference([1.0], [1.0, 2.0]) is None
    flat = uplift.mean_difference([5.0, 5.0], [5.0, 5.0])
    assert (flat.low, flat.high) == (0.0, 0.0) and not flat.significant


# Target lists -------------------------------------------------------------------------------

@pytest.fixture
def scored(users):
    """Six customers of team East with value scores, one of team North."""
    run = ValueRefresh.objects.create(as_of=timezone.localdate(), status="done")
    made = {}
    specs = [("a", "sales1", "invest", 80, 0.9, "浙江"), ("b", "sales1", "invest", 40, 0.5, ""),
             ("c", "sales1b", "develop", 70, 0.8, "浙江"), ("d", "sales1b", "invest", 90, 0.95,
                                                           "江苏"),
             ("e", "sales1", "minimise", 10, 0.1, ""), ("f", "sales1", "", None, None, ""),
             ("n", "sales2", "invest", 85, 0.9, "浙江")]
    for key, owner, segment, loyalty, p_alive, province in specs:
        c = create_customer(users["admin"], {"name": f"Customer {key}", "province": province,
                                             "email": f"{key}@example.com"},
                            owner=users[owner])
        if segment:
            CustomerValue.objects.create(customer=c, refresh=run, segment=segment,
                                         loyalty_index=loyalty, p_alive=p_alive,
                                         clv=Decimal(loyalty * 100), rfm_r=loyalty // 20)
        made[key] = c
    return made


def _names(qs):
    return sorted(c.name[-1] for c in qs)


def test_a_dynamic_list_follows_its_filter_within_the_readers_scope(users, scored):
    m = users["marketing1"]
    tl = services.create_target_list(m, {"name": "Loyal investors"},
                                     criteria={"segment": "invest", "loyalty_min": "60"})
    assert _names(selectors.members(m, tl)) == ["a", "d"]  # not n: another team
    assert selectors.count(users["admin"], tl) == 3  # the admin sees team North too
    assert selectors.count(users["sales1"], tl) == 1  # a salesperson, their own
    # Dynamic: a customer whose scores change joins without anything being saved.
    CustomerValue.objects.filter(customer=scored["b"]).update(loyalty_index=65)
    assert selectors.count(m, tl) == 3
    tl = services.update_target_list(m, tl, {}, criteria={"segment": "invest",
                                                          "province": "浙江"},
                                     expected_version=tl.version)
    assert _names(selectors.members(m, tl)) == ["a"]


def test_every_criterion_filters(users, scored):
    m = users["marketing1"]
    cases = [({"p_alive_max": 0.5}, ["b", "e"]), ({"clv_min": "7000"}, ["a", "c", "d"]),
             ({"rfm_r_min": 4}, ["a", "d"]), ({"quadrant": "protect"}, []),
             ({"loyalty_max": 40}, ["b", "e"]), ({"state": "target"}, []),
             ({"province": "江苏"}, ["d"])]
    for criteria, expected in cases:
        tl = services.create_target_list(m, {"name": "t"}, criteria=criteria)
        assert _names(selectors.members(m, tl)) == expected, criteria


@pytest.mark.parametrize(("criteria", "field"), [
    ({"segment": "gold"}, "segment"), ({"loyalty_min": "abc"}, "loyalty_min"),
    ({"p_alive_min": 2}, "p_alive_min"), ({"colour": "red"}, "criteria"),
    ({"loyalty_min": 80, "loyalty_max": 20}, "loyalty_min"), ({"rfm_r_min": 2.5}, "rfm_r_min"),
])
def test_a_bad_filter_is_refused_naming_the_field(users, criteria, field):
    with pytest.raises(ServiceError) as exc:
        services.create_target_list(users["marketing1"], {"name": "x"}, criteria=criteria)
    assert exc.value.field == field


def test_a_frozen_list_keeps_its_members(users, scored):
    m = users["marketing1"]
    tl = services.create_target_list(m, {"name": "Frozen"}, criteria={"segment": "invest"},
                                     kind="frozen")
    assert tl.frozen_at is not None and selectors.count(m, tl) == 3
    CustomerValue.objects.filter(customer=scored["c"]).update(segment="invest")
    assert selectors.count(m, tl) == 3  # frozen: c does not join
    with pytest.raises(ServiceError):
        services.update_target_list(m, tl, {}, criteria={"segment": "develop"})
    dyn = services.create_target_list(m, {"name": "Later frozen"},
                                      criteria={"segment": "develop"})
    dyn = services.freeze_target_list(m, dyn, expected_version=dyn.version)
    CustomerValue.objects.filter(customer=scored["e"]).update(segment="develop")
    assert _names(selectors.members(m, dyn)) == []  # c moved to invest above; e came later


def test_a_page_of_lists_is_counted_in_one_query_as_each_list_alone(
        users, scored, django_assert_num_queries):
    m = users["marketing1"]
    lists = [services.create_target_list(m, {"name": "Investors"},
                                         criteria={"segment": "invest"}),
             services.create_target_list(m, {"name": "Zhejiang"}, criteria={"province": "浙江"},
                                         kind="frozen"),
             services.create_target_list(m, {"name": "Everyone"}, criteria={}),
             services.create_target_list(m, {"name": "Nobody"}, criteria={"state": "target"})]
    with django_assert_num_queries(1):
        counted = selectors.counts(m, lists)
    assert list(counted.values()) == [3, 2, 6, 0]  # team East: a b d; a c; a–f; none
    for user in (users["sales1"], users["admin"]):
        with django_assert_num_queries(1):
            counted = selectors.counts(user, lists)
        assert counted == {tl.pk: selectors.count(user, tl) for tl in lists}
    assert selectors.counts(m, []) == {}


def test_who_may_make_lists_and_change_them(users, scored):
    with pytest.raises(NotPermitted):
        services.create_target_list(users["sales1"], {"name": "x"}, criteria={})
    tl = services.create_target_list(users["marketing1"], {"name": "x"}, criteria={})
    services.update_target_list(users["manager1"], tl, {"name": "y"})  # team's manager
    with pytest.raises(NotPermitted):
        services.update_target_list(users["manager2"], tl, {"name": "z"})
    with pytest.raises(StaleVersion):
        services.update_target_list(users["marketing1"], tl, {"name": "z"},
                                    expected_version=1)


# Campaigns ----------------------------------------------------------------------------------

def _campaign(user, tl, **data):
    base = {"name": "Spring", "kind": "sales_promotion", "starts_on": dt.date(2026, 3, 1),
            "channels": ["post"], "holdout_percent": 50, "attribution_days": 30,
            "budget": "1000.00"}
    base.update(data)
    return services.create_campaign(user, base, target_list=tl)


def test_launch_splits_the_list_by_the_seed_and_keeps_it(users, scored):
    m = users["marketing1"]
    tl = services.create_target_list(m, {"name": "All"}, criteria={})
    campaign = _campaign(m, tl)
    campaign = services.launch_campaign(m, campaign, expected_version=campaign.version)
    assert campaign.status == CampaignStatus.RUNNING
    rows = {c.customer_id: c for c in CampaignContact.objects.filter(campaign=campaign)}
    assert set(rows) == {c.pk for k, c in scored.items() if k != "n"}
    for cid, row in rows.items():
        held = holdout.is_held_out(campaign.seed, cid, 50)
        assert (row.group == ContactGroup.HOLDOUT) == held
        assert row.outcome == (ContactOutcome.HELD_OUT if held else ContactOutcome.REACHED)
    with pytest.raises(ServiceError):
        services.launch_campaign(m, campaign)
    with pytest.raises(ServiceError) as exc:
        services.update_campaign(m, campaign, {"holdout_percent": 20})
    assert exc.value.field == "holdout_percent"
    services.update_campaign(m, campaign, {"cost": "800.00"})  # the cost may still change


def test_personal_selling_makes_a_task_for_each_owner(users, scored):
    m = users["marketing1"]
    tl = services.create_target_list(m, {"name": "Investors"}, criteria={"segment": "invest"})
    campaign = _campaign(m, tl, kind="personal_selling", channels=["visit"], holdout_percent=0,
                         subject="Visit and present the spring range")
    services.launch_campaign(m, campaign)
    tasks = Task.objects.filter(origin=campaign.task_origin)
    assert sorted((t.customer.name[-1], t.assignee.username) for t in tasks) == [
        ("a", "sales1"), ("b", "sales1"), ("d", "sales1b")]
    assert {t.title for t in tasks} == {"Visit and present the spring range"}
    assert all(c.task_id for c in CampaignContact.objects.filter(campaign=campaign))
    campaign.refresh_from_db()
    services.finish_campaign(m, campaign)
    assert not tasks.filter(status=TaskStatus.OPEN).exists()


def test_results_attribute_within_the_window_and_compare_with_the_holdout(users, scored):
    m, admin = users["marketing1"], users["admin"]
    tl = services.create_target_list(m, {"name": "All"}, criteria={})
    campaign = _campaign(m, tl, holdout_percent=50, attribution_days=10, cost="100.00")
    ids = [c.pk for k, c in scored.items() if k != "n"]
    # A seed that puts customers in both groups (a random one may, rarely, not).
    seed = next(s for s in range(1, 1000)
                if 0 < sum(holdout.is_held_out(s, c, 50) for c in ids) < len(ids) - 1)
    type(campaign).objects.filter(pk=campaign.pk).update(seed=seed)
    campaign.refresh_from_db()
    services.launch_campaign(m, campaign)
    campaign.refresh_from_db()
    day = timezone.localdate(campaign.launched_at)
    groups = dict(CampaignContact.objects.filter(campaign=campaign)
                  .values_list("customer_id", "group"))
    treated = [c for c, g in groups.items() if g == ContactGroup.TREATED]
    held = [c for c, g in groups.items() if g == ContactGroup.HOLDOUT]
    assert treated and held
    by_pk = {c.pk: c for c in scored.values()}
    t0 = by_pk[treated[0]]
    # Counted: on the day of the contact and on its last day; not before, not after.
    create_transaction(admin, t0, date=day, amount="300.00")
    create_transaction(admin, t0, date=day + dt.timedelta(days=10), amount="200.00")
    create_transaction(admin, t0, date=day - dt.timedelta(days=1), amount="999.00")
    create_transaction(admin, t0, date=day + dt.timedelta(days=11), amount="999.00")
    h0 = by_pk[held[0]]
    create_transaction(admin, h0, date=day + dt.timedelta(days=3), amount="50.00")
    if len(treated) > 1:
        log_activity(admin, by_pk[treated[1]], kind="call", subject="Asked about the offer")
    r = selectors.results(m, campaign, today=day + dt.timedelta(days=20))
    assert not r.window_open
    assert (r.window_start, r.window_end) == (day, day + dt.timedelta(days=10))
    assert r.treated.customers == len(treated) and r.holdout.customers == len(held)
    assert r.treated.revenue == Decimal("500.00") and r.holdout.revenue == Decimal("50.00")
    assert r.treated.conversions == 1 and r.holdout.conversions == 1
    assert r.treated.responses == min(2, len(treated))
    assert r.cost_per_response == (Decimal("100.00") / r.treated.responses).quantize(
        Decimal("0.01"))
    assert r.roi == pytest.approx((500 - 100) / 100)
    expected = uplift.rate_difference(1, len(treated), 1, len(held))
    assert r.conversion_uplift == expected
    per_t = 500 / len(treated) - 50 / len(held)
    assert r.revenue_uplift is None or r.revenue_uplift.estimate == pytest.approx(per_t)


def test_results_count_the_coupons_redeemed_and_the_pages_send_counts(users, scored, client):
    from kehu.marketing.consent.sending import send_marketing_email
    from kehu.marketing.consent.services import set_consent
    from kehu.marketing.offers.models import Coupon

    m, admin = users["marketing1"], users["admin"]
    tl = services.create_target_list(m, {"name": "All"}, criteria={})
    campaign = services.launch_campaign(m, _campaign(m, tl, holdout_percent=0))
    day = timezone.localdate(campaign.launched_at)
    a, b = scored["a"], scored["b"]
    for n, (customer, on) in enumerate([(a, day + dt.timedelta(days=2)),
                                        (a, day + dt.timedelta(days=40)),  # after the window
                                        (b, day - dt.timedelta(days=1))]):  # before it
        txn = create_transaction(admin, customer, date=on, amount="100.00")
        Coupon.objects.create(code=f"KH-CAMP-{n}", customer=customer, tier_name="Gold",
                              discount_percent=15, valid_from=on, valid_until=on,
                              redeemed_transaction=txn, redeemed_on=on,
                              discount_amount=Decimal("15.00"))
    # The campaign's e-mails as the send service recorded them: one sent, one held back.
    set_consent(admin, a, channel="email", status="given", source="form")
    for customer in (a, b):
        send_marketing_email(m, customer, subject="Spring", body="x", origin="campaign",
                             origin_id=campaign.pk)
    r = selectors.results(m, campaign, today=day)
    assert (r.treated.coupons, r.treated.discount) == (1, Decimal("15.00"))
    assert r.holdout.coupons == 0
    assert r.sends == {"sent": 1, "no_consent": 1}
    client.force_login(m)
    from django.urls import reverse

    page = client.get(reverse("marketing:campaign_detail", args=[campaign.pk])).content.decode()
    assert 'id="coupon-row"' in page and 'id="send-counts"' in page
    assert "Not sent: no consent to e-mail" in page


def test_a_merge_keeps_one_row_per_list_and_campaign(users, scored):
    from kehu.dataio.quality import merge
    from kehu.marketing.campaigns.models import TargetListMember

    m = users["marketing1"]
    tl = services.create_target_list(m, {"name": "Both"}, criteria={"segment": "invest"},
                                     kind="frozen")
    campaign = services.launch_campaign(m, _campaign(m, tl))
    a, b = scored["a"], scored["b"]
    merge.merge_customers(users["admin"], a, b, survivor_version=a.version,
                          loser_version=b.version)
    assert TargetListMember.objects.filter(target_list=tl, customer=a).count() == 1
    assert CampaignContact.objects.filter(campaign=campaign, customer=a).count() == 1
    assert selectors.count(m, tl) == 2  # a and d; b is gone into a


@pytest.mark.django_db(transaction=True)
def test_an_email_campaign_sends_to_the_contacted_who_consent_and_never_to_the_holdout(
        users, scored, committed_db):
    from django.core import mail

    from kehu.core.worker import run_pending
    from kehu.marketing.consent.models import MarketingSend
    from kehu.marketing.consent.services import set_consent

    m = users["marketing1"]
    for key in "abcd":
        set_consent(users["admin"], scored[key], channel="email", status="given",
                    source="form")
    tl = services.create_target_list(m, {"name": "All"}, criteria={})
    campaign = _campaign(m, tl, channels=["email"], subject="{{ name }}: spring offer",
                         message="Dear {{ name }}, see you at the fair.")
    campaign = services.launch_campaign(m, campaign)
    rows = {c.customer_id: c for c in CampaignContact.objects.filter(campaign=campaign)}
    treated = {cid for cid, row in rows.items() if row.group == ContactGroup.TREATED}
    assert {rows[c].outcome for c in treated} == {ContactOutcome.SENT}
    assert run_pending() == 1
    consenting = {scored[k].pk for k in "abcd"}
    got = {m.to[0] for m in mail.outbox}
    assert got == {c.email for c in scored.values() if c.pk in treated & consenting}
    assert all("spring offer" in m.subject and "/unsubscribe/" in m.body for m in mail.outbox)
    sends = MarketingSend.objects.filter(origin="campaign", origin_id=campaign.pk)
    assert set(sends.values_list("customer_id", flat=True)) == treated
    assert not sends.filter(customer_id__in=set(rows) - treated).exists()
