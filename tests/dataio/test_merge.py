"""Merging duplicates: every related record moves to the survivor (whatever relations exist),
chosen values are kept, history and audit say so, stale merges and the wrong people are
refused."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from kehu.audit.models import AuditEvent
from kehu.core.errors import NotPermitted, ServiceError, StaleVersion
from kehu.customers.models import Contact, Customer, OwnerAssignment, Transaction
from kehu.customers.services import (
    create_contact,
    create_customer,
    create_transaction,
    set_lifecycle_state,
)
from kehu.dataio.models import CustomerPair
from kehu.dataio.quality import dedup, merge
from kehu.loans.services import request_loan
from kehu.sales.pipeline.models import Stage
from kehu.sales.pipeline.services import create_opportunity
from kehu.sales.services import log_activity
from kehu.tasks.services import add_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def twins(users):
    """Two cards of one firm, each with something of everything."""
    admin = users["admin"]
    out = {}
    for key, data, owner in (
            ("a", {"name": "上海华东贸易有限公司", "phone": "021-5555-0101", "city": "上海",
                   "external_id": "ERP-1", "credit_limit": "10"}, users["sales1"]),
            ("b", {"name": "上海华东贸易", "phone": "+86 21 5555 0101", "email": "hd@x.cn",
                   "external_id": "CRM-9", "credit_rating": "good", "credit_limit": "10"},
             users["sales1b"])):
        c = create_customer(admin, data, owner=owner)
        contact = create_contact(admin, c, {"name": f"联系人{key}"})
        create_transaction(admin, c, date=datetime.date(2024, 1, 2), amount="100",
                           lines=[{"description": "x", "quantity": "2", "unit_price": "50"}])
        log_activity(admin, c, kind="call", subject=f"电话 {key}", contact=contact)
        add_task(admin, c, title=f"回访 {key}")
        # Credit: the order above went over the limit (a flag); a receivable, an incident.
        from kehu.sales.credit.services import create_receivable, record_credit_incident

        create_receivable(admin, c, issued_on=datetime.date(2024, 1, 2), amount="100",
                          number=f"INV-{key}")
        record_credit_incident(admin, c, kind="late_payment",
                               occurred_on=datetime.date(2024, 2, 2), description="逾期")
        opportunity = create_opportunity(admin, c, title=f"商机 {key}",
                                         stage=Stage.objects.first(), amount="100",
                                         expected_close=datetime.date(2024, 6, 1))
        assert opportunity.stage_changes.exists()
        set_lifecycle_state(admin, c, "first", reason="下单", lock_reason="框架合同")
        from kehu.analytics.services import record_loyalty_statement

        record_loyalty_statement(admin, c, stated_on=datetime.date(2024, 3, 1), buy_again=8)
        # A ticket from the contact, with its conversation and status history.
        from kehu.service.tickets.services import add_entry, open_ticket

        ticket = open_ticket(admin, c, subject=f"工单 {key}", contact=contact,
                             description="打印机卡纸")
        add_entry(admin, ticket, kind="reply", body="已上门", minutes=30)
        # A satisfaction survey answered (kehu.service.surveys).
        from kehu.service.surveys.services import send_survey, submit_answers
        from tests.service.surveys_factory import answers_for, make_survey

        survey = out.get("survey") or make_survey(admin)
        out["survey"] = survey
        submit_answers(send_survey(admin, survey, c).invitation, answers_for(survey))
        from kehu.service.sla.services import decide_service_group

        decide_service_group(admin, c, service_group="large", reason="Group buyer")
        # Somebody of another team asked to borrow the file (kehu.loans).
        request_loan(users["sales2"], data["external_id"], "A caller asked about an order")
        if key == "b":  # one plan per customer: the kept card takes the merged one's
            from kehu.sales.plans.services import create_plan

            create_plan(admin, c, {"objectives": "Grow"})
        # A lead this customer referred; b itself came from a lead (one lead per customer).
        from kehu.sales.leads.models import Lead
        from kehu.sales.leads.services import create_lead

        create_lead(admin, {"name": f"线索 {key}", "source": "referral"}, referrer=c)
        if key == "b":
            origin = create_lead(admin, {"name": "线索来源", "source": "exhibition"})
            Lead.objects.filter(pk=origin.pk).update(customer=c)
        # Consent of the customer and of its contact, and a marketing e-mail under it.
        from kehu.marketing.consent.sending import send_marketing_email
        from kehu.marketing.consent.services import set_consent

        set_consent(admin, c, channel="email", status="given", source="form")
        set_consent(admin, c, channel="sms", status="refused", source="phone",
                    contact=contact)
        send_marketing_email(admin, c, subject="Spring fair", body="x", origin="mailing",
                             contact=contact)
        # A personalised offer list with its coupon (kehu.marketing.offers).
        from kehu.marketing.offers.models import Coupon, OfferList

        offer_list = OfferList.objects.create(customer=c, as_of=datetime.date(2024, 1, 3),
                                              valid_until=datetime.date(2024, 1, 17),
                                              spend="100")
        Coupon.objects.create(code=f"KH-MERG-{key.upper()}000", customer=c,
                              offer_list=offer_list, tier_name="Gold", discount_percent=15,
                              valid_from=offer_list.as_of, valid_until=offer_list.valid_until)
        out[key] = Customer.objects.get(pk=c.pk)
    # b was referred by a third customer and referred another one itself.
    from kehu.analytics.models import Referral

    friend = create_customer(admin, {"name": "老朋友"}, owner=users["sales1"])
    newcomer = create_customer(admin, {"name": "新客户"}, owner=users["sales1"])
    Referral.objects.create(referrer=friend, referred=out["b"],
                            referred_on=datetime.date(2024, 1, 1))
    brought = Referral.objects.create(referrer=out["b"], referred=newcomer,
                                      referred_on=datetime.date(2024, 2, 1))
    # Both have referral codes (the kept card keeps both); b was rewarded for newcomer.
    from kehu.marketing.referrals.services import grant_referral_reward, issue_referral_code

    del out["survey"]
    for twin in out.values():
        issue_referral_code(admin, twin)
    grant_referral_reward(admin, brought, kind="gift", value="80")
    # b is on a frozen target list and was reached by a campaign (kehu.marketing): one
    # row per list and campaign, moved to the survivor (tests/marketing has the case of
    # both being on the same list).
    from kehu.marketing.campaigns import services as campaigns
    from kehu.marketing.campaigns.models import TargetListMember

    marketer = users["marketing1"]
    listed = campaigns.create_target_list(marketer, {"name": "B"}, criteria={}, kind="frozen")
    TargetListMember.objects.filter(target_list=listed).exclude(customer=out["b"]).delete()
    campaigns.launch_campaign(marketer, campaigns.create_campaign(
        marketer, {"name": "B", "kind": "advertising", "starts_on": datetime.date(2024, 1, 1),
                   "channels": ["post"], "holdout_percent": 0}, target_list=listed))
    dedup.scan()
    return out


# Derived from the rest and rebuilt by their own jobs: dropped with the merged record.
DERIVED = {"dataio.customerkey", "dataio.customerpair", "analytics.customervalue",
           "analytics.customervaluesnapshot"}


def _counts(customer_ids):
    """Rows pointing at each customer, over every relation Customer has."""
    counts = {}
    for rel in merge.reverse_relations(Customer):
        label = rel.related_model._meta.label_lower
        if label in DERIVED:
            continue
        for pk in customer_ids:
            n = rel.related_model._base_manager.filter(**{rel.field.attname: pk}).count()
            counts[(label, rel.field.name, pk)] = n
    return counts


# One answer per person and channel: both cards' consent to e-mail become one (the later
# answer, with both histories: tests/marketing/test_consent_sending.py).
JOINED = {"marketing.consent": 1}


def test_a_merge_keeps_every_related_record(twins, users):
    a, b = twins["a"], twins["b"]
    before = _counts([a.pk, b.pk])
    # Every relation has something on the merged customer, so that a relation that is not
    # moved shows up below. (A relation added later without rows here is still checked by
    # the merge itself: see the next test.)
    assert all(n for (label, field, pk), n in before.items() if pk == b.pk), before
    kept = merge.merge_customers(users["manager1"], a, b,
                                 take_from_loser=["email", "credit_rating", "external_id"],
                                 survivor_version=a.version, loser_version=b.version)
    after = _counts([a.pk, b.pk])
    for label, field, pk in before:
        if pk == a.pk:
            assert after[(label, field, a.pk)] == before[(label, field, a.pk)] + before[
                (label, field, b.pk)] - JOINED.get(label, 0), label
            assert after[(label, field, b.pk)] == 0, label
    assert not Customer.objects.filter(pk=b.pk).exists()
    assert Transaction.objects.filter(customer=kept).count() == 2
    assert sum(t.lines.count() for t in kept.transactions.all()) == 2
    assert (kept.name, kept.email, kept.credit_rating, kept.external_id, kept.city) == (
        "上海华东贸易有限公司", "hd@x.cn", "good", "CRM-9", "上海")
    assert kept.version == a.version + 1
    assert "hd@x.cn" in kept.search_text
    # One owner at a time: the merged card's owner period ended with the merge.
    assert OwnerAssignment.objects.filter(customer=kept, ended_at__isnull=True).count() == 1
    # History: the survivor says what it merged with; the moved contact says it moved.
    assert kept.history.first().history_change_reason.startswith(f"Merged with #{b.pk}")
    contact_b = Contact.objects.get(name="联系人b")
    assert contact_b.customer == kept and contact_b.history.first().history_change_reason == \
        "Moved by a merge"
    assert Customer.history.filter(id=b.pk, history_type="-").get().history_change_reason \
        .startswith(f"Merged into #{a.pk}")
    event = AuditEvent.objects.get(action="customer.merge")
    assert event.customer_id == a.pk and event.detail["merged"] == b.pk
    assert event.detail["moved"]["customers.contact"] == 1
    assert AuditEvent.objects.get(action="customer.merged_into").customer_id == b.pk
    assert not CustomerPair.objects.exists()
    # The survivor keeps its own lock on its state; the merged record's lock moved, ended.
    assert kept.state_locks.filter(unlocked_at__isnull=True).count() == 1
    assert kept.state_locks.count() == 2


def test_a_relation_left_behind_refuses_the_merge(twins, users, monkeypatch):
    """If anything still pointed at the merged customer, deleting it would take that along
    (or fail on PROTECT): the merge refuses and changes nothing."""
    a, b = twins["a"], twins["b"]
    monkeypatch.setitem(merge.HANDLERS, "sales.activity", lambda *args: 0)
    with pytest.raises(ServiceError, match="still point at the record"):
        merge.merge_customers(users["admin"], a, b, survivor_version=a.version,
                              loser_version=b.version)
    assert Customer.objects.filter(pk=b.pk).exists()
    assert Contact.objects.get(name="联系人b").customer_id == b.pk


def test_a_stale_merge_is_refused(twins, users):
    a, b = twins["a"], twins["b"]
    with pytest.raises(StaleVersion, match="changed by"):
        merge.merge_customers(users["admin"], a, b, survivor_version=a.version,
                              loser_version=b.version - 1)
    assert Customer.objects.filter(pk=b.pk).exists()


@pytest.mark.parametrize("role", ["sales1", "sales1b", "service1", "marketing1", "manager2",
                                  "sales2"])
def test_who_may_not_merge(twins, users, role):
    a, b = twins["a"], twins["b"]
    with pytest.raises(NotPermitted):
        merge.merge_customers(users[role], a, b, survivor_version=a.version,
                              loser_version=b.version)
    assert Customer.objects.filter(pk=b.pk).exists()


def test_the_owner_can_be_taken_from_the_merged_card(twins, users):
    a, b = twins["a"], twins["b"]
    kept = merge.merge_customers(users["manager1"], a, b, take_from_loser=["owner"],
                                 survivor_version=a.version, loser_version=b.version)
    assert kept.owner == users["sales1b"]
    assert OwnerAssignment.objects.get(customer=kept, ended_at__isnull=True).owner == \
        users["sales1b"]


def test_undoing_an_import_whose_rows_moved_is_refused(users, tmp_path):
    from kehu.dataio.imports.services import import_file, undo_batch

    admin = users["admin"]
    a = create_customer(admin, {"name": "甲", "external_id": "A"}, owner=users["sales1"])
    b = create_customer(admin, {"name": "甲公司", "external_id": "B"}, owner=users["sales1"])
    path = tmp_path / "t.csv"
    path.write_text("客户编号,日期,金额\nB,2024-01-01,5\n", encoding="utf-8")
    batch = import_file(admin, "transactions", path).batch_id
    merge.merge_customers(admin, a, b, survivor_version=1, loser_version=1)
    with pytest.raises(ServiceError, match="changed or added to since it ran"):
        undo_batch(admin, batch)
    assert Transaction.objects.get().customer == a


def test_contacts_merge_with_their_activities(customers, users):
    admin = users["admin"]
    one = create_contact(admin, customers["east"], {"name": "王经理", "phone": "13800138000"})
    two = create_contact(admin, customers["east"], {"name": "王 经理", "email": "w@x.cn"})
    log_activity(admin, customers["east"], kind="visit", subject="拜访", contact=two)
    kept = merge.merge_contacts(users["sales1"], one, two, take_from_loser=["email"],
                                survivor_version=1, loser_version=1)
    assert (kept.name, kept.phone, kept.email) == ("王经理", "13800138000", "w@x.cn")
    assert kept.activities.get().subject == "拜访"
    assert not Contact.objects.filter(pk=two.pk).exists()
    with pytest.raises(NotPermitted):
        other = create_contact(admin, customers["east"], {"name": "x"})
        merge.merge_contacts(users["sales2"], kept, other, survivor_version=kept.version,
                             loser_version=1)


def test_the_merge_page(twins, users):
    a, b = twins["a"], twins["b"]
    pair = CustomerPair.objects.get(a=a, b=b)
    client = Client()
    client.force_login(users["manager1"])
    url = reverse("dataio:duplicate_pair", args=["customers", pair.pk])
    page = client.get(url).content.decode()
    assert "上海华东贸易有限公司" in page and "hd@x.cn" in page
    response = client.post(url, {"survivor": "b", "version_a": a.version,
                                 "version_b": b.version, "f_name": "a", "f_city": "a"})
    assert response.status_code == 302 and response["Location"] == reverse(
        "customers:card", args=[b.pk])
    kept = Customer.objects.get(pk=b.pk)
    assert not Customer.objects.filter(pk=a.pk).exists()
    assert (kept.pk, kept.name, kept.city, kept.email) == (b.pk, "上海华东贸易有限公司", "上海",
                                                           "hd@x.cn")
    # The pair is gone with the merged record: the page of the pair answers 404.
    assert client.get(url).status_code == 404


def test_a_referral_between_the_two_goes_and_the_survivors_own_wins(users):
    from kehu.analytics.models import Referral

    admin = users["admin"]
    a, b, c = (create_customer(admin, {"name": n}, owner=users["sales1"])
               for n in ("甲公司", "甲", "丙"))
    Referral.objects.create(referrer=a, referred=b, referred_on=datetime.date(2024, 1, 1))
    Referral.objects.create(referrer=c, referred=a, referred_on=datetime.date(2024, 1, 2))
    kept = merge.merge_customers(admin, a, b, survivor_version=1, loser_version=1)
    assert list(Referral.objects.values_list("referrer", "referred")) == [(c.pk, kept.pk)]
