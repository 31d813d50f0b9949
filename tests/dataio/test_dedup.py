"""Likely duplicates: keys, scores, the scan (blocked, never all pairs), the scoped review
queue, and "not a duplicate" that sticks."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.core.errors import NotPermitted
from kehu.customers.services import create_contact, create_customer, update_customer
from kehu.dataio.models import ContactPair, CustomerKey, CustomerPair, PairStatus
from kehu.dataio.quality import dedup


def test_spellings_of_one_phone_or_firm_share_a_key():
    a = dedup.customer_keys("上海华东贸易有限公司", phone="+86 21-5555-0101")
    b = dedup.customer_keys("上海华东贸易", phone="021 5555 0101")
    assert "p:02155550101" in a & b and "n:上海华东贸易" in a & b
    # Same sound, other characters (an input-method slip): the pinyin keys meet.
    assert dedup.customer_keys("上海华冬贸易") & a >= {"y:shanghaihuadongmaoyi"}
    assert "n:hangzhousilk" in dedup.customer_keys("Hangzhou Silk Co., Ltd.") & \
        dedup.customer_keys("HANGZHOU SILK")
    # Contacts' names only meet within one customer.
    assert not dedup.contact_keys(1, "王伟") & dedup.contact_keys(2, "王伟")


@pytest.mark.parametrize(("a", "b", "at_least"), [
    ("上海华东贸易有限公司", "上海华东贸易", 100),
    ("上海华东贸易", "上海华冬贸易", 90),  # homophone
    ("Hangzhou Silk Co., Ltd.", "hangzhou silk", 100),
    ("Silk Hangzhou", "Hangzhou Silk", 95),  # word order
    ("Hangzhou Silk", "Hangzhuo Silk", 85),  # typo
])
def test_alike_names_score_high(a, b, at_least):
    assert dedup.name_similarity(a, b) >= at_least


def test_different_firms_score_low():
    assert dedup.name_similarity("上海华东贸易", "北京华北机械") < 50
    assert dedup.score_customers({"name": "上海华东贸易"}, {"name": "北京华北机械"}).score == 0


record = st.fixed_dictionaries({
    "name": st.sampled_from(["上海华东贸易有限公司", "上海华东贸易", "北京华北机械厂",
                             "Hangzhou Silk Co., Ltd.", "王伟", ""]),
    "phone": st.sampled_from(["", "+86 138-0013-8000", "13800138000", "010-6666-0202"]),
    "mobile": st.sampled_from(["", "139 0000 0001"]),
    "email": st.sampled_from(["", "Info@X.cn", "info@x.cn", "b@y.cn"]),
    "external_id": st.sampled_from([None, "K1", "K2"]),
    "city": st.sampled_from(["", "北京", "上海", " 北京 "]),
})


@settings(max_examples=200, deadline=None)
@given(x=record, y=record)
def test_scores_are_symmetric_and_between_0_and_100(x, y):
    forward, backward = dedup.score_customers(x, y), dedup.score_customers(y, x)
    assert forward.score == backward.score
    assert 0 <= forward.score <= 100


@pytest.fixture
def crowd(users):
    """Duplicates in several disguises, in team East, plus one in team North."""
    admin, sales1 = users["admin"], users["sales1"]

    def make(name, owner=sales1, **data):
        return create_customer(admin, {"name": name, **data}, owner=owner)

    return {
        "east": make("上海华东贸易有限公司", phone="+86 21-5555-0101"),
        "east_dup": make("上海华东贸易", phone="021 5555 0101"),
        "silk": make("Hangzhou Silk Co., Ltd.", email="Sales@Silk.example"),
        "silk_dup": make("HANGZHOU SILK", email="sales@silk.example"),
        "typo": make("Xhanghai Pudong Trading"),
        "typo_dup": make("Shanghai Pudong Trading"),
        "alone": make("南方科技电子"),
        "north": make("上海华东贸易", owner=users["sales2"]),
    }


def _pairs(crowd):
    key = {c.pk: k for k, c in crowd.items()}
    return {frozenset((key[p.a_id], key[p.b_id])): p for p in CustomerPair.objects.all()}


@pytest.mark.django_db
def test_the_scan_finds_the_duplicates_and_nothing_else(crowd, users):
    result = dedup.scan()
    pairs = _pairs(crowd)
    assert set(pairs) == {frozenset(p) for p in (
        ("east", "east_dup"), ("silk", "silk_dup"),
        ("typo", "typo_dup"),  # shares no key: only the sorted pass finds it
        ("east", "north"), ("east_dup", "north"))}
    assert pairs[frozenset(("east", "east_dup"))].score >= 95  # name and phone
    assert pairs[frozenset(("east", "north"))].score == 90  # the name alone
    assert {r["code"] for r in pairs[frozenset(("silk", "silk_dup"))].reasons} \
        == {"email", "name"}
    assert result["customers"]["pairs"] == 5


@pytest.mark.django_db
def test_rescans_refresh_only_changed_records_and_dismissed_pairs_stay_dismissed(crowd, users):
    dedup.scan()
    pair = CustomerPair.objects.get(a=crowd["east"], b=crowd["east_dup"])
    dedup.dismiss_pair(users["manager1"], pair)
    assert dedup.scan()["customers"]["keys_refreshed"] == 0
    pair.refresh_from_db()
    assert pair.status == PairStatus.DISMISSED
    assert pair not in dedup.customer_pairs(users["manager1"])
    # A record that no longer looks alike leaves the queue on the next scan.
    update_customer(users["admin"], crowd["silk_dup"], {"name": "Ningbo Port", "email": ""},
                    expected_version=1)
    assert dedup.scan()["customers"]["keys_refreshed"] == 1
    assert not CustomerPair.objects.filter(b=crowd["silk_dup"]).exists()


@pytest.mark.django_db
def test_the_scan_compares_blocks_never_every_pair(users, monkeypatch):
    from kehu.customers.models import Customer

    owner = users["sales1"]
    # 120 different firms, all behind one switchboard number: a key shared by more than
    # MAX_BLOCK records identifies nobody and is skipped.
    Customer.objects.bulk_create([
        Customer(name=f"Firm {i:03d} {chr(65 + i % 26)}{chr(75 + i % 13)}", owner=owner,
                 team=owner.team, phone="400-800-8888") for i in range(120)])
    scored = []
    real = dedup.score_customers
    monkeypatch.setattr(dedup, "score_customers", lambda x, y: scored.append(1) or real(x, y))
    dedup.scan(kinds=("customers",))
    assert CustomerKey.objects.filter(key="p:4008008888").count() == 120
    assert len(scored) < 120 * 3  # a window of neighbours per record, not 7,140 pairs


@pytest.mark.django_db
def test_contacts_of_one_customer_with_one_phone_are_duplicates(customers, users):
    admin = users["admin"]
    create_contact(admin, customers["east"], {"name": "王经理", "phone": "138 0013 8000"})
    create_contact(admin, customers["east"], {"name": "王 经理", "phone": "+8613800138000"})
    create_contact(admin, customers["north"], {"name": "王经理"})
    dedup.scan(kinds=("contacts",))
    pair = ContactPair.objects.get()
    assert pair.a.customer == pair.b.customer == customers["east"]
    assert pair.score >= 90


@pytest.mark.django_db
def test_the_queue_shows_only_pairs_the_user_may_see(crowd, users):
    dedup.scan()
    assert dedup.customer_pairs(users["sales1"]).count() == 3
    assert dedup.customer_pairs(users["manager1"]).count() == 3
    assert dedup.customer_pairs(users["sales2"]).count() == 0
    assert dedup.customer_pairs(users["admin"]).count() == 5
    pair = CustomerPair.objects.get(a=crowd["east"], b=crowd["east_dup"])
    with pytest.raises(NotPermitted):
        dedup.dismiss_pair(users["sales2"], pair)


@pytest.mark.django_db
def test_the_review_pages(crowd, users):
    dedup.scan()
    pair = CustomerPair.objects.get(a=crowd["east"], b=crowd["east_dup"])
    north = Client()
    north.force_login(users["sales2"])
    page = north.get(reverse("dataio:duplicates")).content.decode()
    assert "上海华东贸易有限公司" not in page
    assert north.get(reverse("dataio:duplicate_pair", args=["customers", pair.pk])).status_code \
        == 404
    assert north.post(reverse("dataio:duplicate_dismiss", args=["customers", pair.pk])
                      ).status_code == 404
    east = Client()
    east.force_login(users["manager1"])
    page = east.get(reverse("dataio:duplicates")).content.decode()
    assert "same phone number 02155550101" in page and "names 100% alike" in page
    page = east.get(reverse("dataio:duplicate_pair", args=["customers", pair.pk])).content
    assert b"Keep A" in page and b'name="f_name"' in page
    assert east.get(reverse("dataio:duplicate_pair", args=["tickets", pair.pk])).status_code \
        == 404
    east.post(reverse("dataio:duplicate_dismiss", args=["customers", pair.pk]))
    pair.refresh_from_db()
    assert (pair.status, pair.decided_by) == (PairStatus.DISMISSED, users["manager1"])


@pytest.mark.django_db
def test_the_scan_runs_from_the_command(crowd):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("dedup", stdout=out)
    assert "5 pairs of customers" in out.getvalue()


def test_alike_names_with_other_numbers_are_other_firms():
    assert dedup.score_customers({"name": "华东贸易第1分店"}, {"name": "华东贸易第2分店"}).score \
        < dedup.MIN_SCORE
    assert dedup.score_customers({"name": "客户12贸易"}, {"name": "客户13贸易"}).score \
        < dedup.MIN_SCORE
    assert dedup.score_customers({"name": "客户12贸易有限公司"}, {"name": "客户12贸易"}).score \
        >= 90


def test_near_sounds_and_shared_suffixes_do_not_make_firms_alike():
    # 恒信 hengxin and 和谐 hexie sound near, not the same: two firms.
    assert dedup.name_similarity("唐山恒信文化传媒股份有限公司",
                                 "唐山和谐文化传媒有限责任公司") < 80
    # A long shared legal-form suffix must not lift two names.
    assert dedup.name_similarity("上海华东贸易有限公司", "上海华西贸易有限公司") < 85


@pytest.mark.django_db
def test_comparing_two_cards_is_a_recorded_view_of_both(crowd, users):
    from kehu.audit.models import AuditEvent

    dedup.scan()
    pair = CustomerPair.objects.get(a=crowd["east"], b=crowd["east_dup"])
    client = Client()
    client.force_login(users["manager1"])
    client.get(reverse("dataio:duplicate_pair", args=["customers", pair.pk]))
    assert set(AuditEvent.objects.filter(action="customer.view", username="manager1")
               .values_list("customer_id", flat=True)) == {crowd["east"].pk, crowd["east_dup"].pk}


def test_namesakes_whose_facts_disagree_are_not_queued():
    beijing = {"name": "王伟", "city": "北京", "mobile": "13800138000"}
    chengdu = {"name": "王伟", "city": "成都", "mobile": "13900139000"}
    match = dedup.score_customers(beijing, chengdu)
    assert match.score < dedup.MIN_SCORE
    assert {r["code"] for r in match.reasons} == {"name", "different_phones",
                                                  "different_cities"}
    # The same name with nothing said against it still goes to review…
    assert dedup.score_customers({"name": "王伟"}, {"name": "王伟", "city": "北京"}).score \
        >= dedup.MIN_SCORE
    # …and a shared number outweighs a different city (a customer who moved).
    moved = {"name": "王伟", "city": "上海", "mobile": "+86 138-0013-8000"}
    assert dedup.score_customers(beijing, moved).score >= dedup.MIN_SCORE


@pytest.mark.django_db
def test_one_external_id_in_two_teams_is_a_likely_duplicate_for_whoever_sees_both(users,
                                                                                  customers):
    """External ids are unique only within what a user sees: when two teams enter one id,
    the scan puts the pair in front of an admin, who sees both."""
    update_customer(users["admin"], customers["north"], {"external_id": "ERP-7"},
                    expected_version=None)
    mine = create_customer(users["sales1"], {"name": "东方机电", "external_id": "erp-7"})
    match = dedup.score_customers({"name": "东方机电", "external_id": "erp-7"},
                                  {"name": "北京华北机械厂", "external_id": "ERP-7"})
    assert match.score >= 90 and match.reasons[0]["code"] == "external_id"
    dedup.scan(None, user=users["admin"])
    pair_ids = {frozenset((p.a_id, p.b_id)) for p in dedup.customer_pairs(users["admin"])}
    assert frozenset((mine.pk, customers["north"].pk)) in pair_ids
    assert not dedup.customer_pairs(users["sales1"]).exists()
