"""Every service writes in one transaction: when its last write fails, nothing it wrote
before remains.

Each service is run twice. The first run counts its writes (INSERT, UPDATE, DELETE) and is
rolled back; the second makes the last of them fail, as a full disk or a lost connection
would. The database must then hold exactly what it held before. A service that is not
atomic (for instance because its decorator slipped onto a helper above it) leaves the
earlier writes behind and fails here.

Every public function of a services module must be listed here, or named in NOT_WRITERS
with the reason, so that a service added later is covered without editing this file being
forgotten.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection, transaction

import kehu

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE")


class LastWriteFailed(Exception):
    pass


class _Rollback(Exception):
    pass


def _snapshot() -> dict[str, str]:
    out = {}
    for model in apps.get_models(include_auto_created=True):
        rows = model._base_manager.order_by("pk").values_list()
        out[model._meta.label] = hashlib.sha256(repr(list(rows)).encode()).hexdigest()
    return out


def _is_write(sql: str) -> bool:
    return sql.lstrip().upper().startswith(WRITES)


def _count_writes(call: Callable[[], object]) -> int:
    seen = [0]

    def counter(execute, sql, params, many, context):
        if _is_write(sql):
            seen[0] += 1
        return execute(sql, params, many, context)

    try:
        with transaction.atomic(), connection.execute_wrapper(counter):
            call()
            raise _Rollback
    except _Rollback:
        pass
    return seen[0]


def _fail_write(call: Callable[[], object], n: int) -> None:
    seen = [0]

    def failer(execute, sql, params, many, context):
        if _is_write(sql):
            seen[0] += 1
            if seen[0] == n:
                raise LastWriteFailed(sql[:80])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(failer), pytest.raises(LastWriteFailed):
        call()


# The services and how to call each on the shared fixtures ------------------------------------

def _cases(users, customers, children, tmp_path) -> dict[str, Callable[[], object]]:
    from kehu.accounts import services as accounts
    from kehu.accounts import tokens
    from kehu.analytics import services as analytics
    from kehu.customers import services as cs
    from kehu.dataio.imports import services as imports
    from kehu.dataio.privacy import services as privacy
    from kehu.dataio.quality import dedup, merge
    from kehu.marketing.consent import services as consent
    from kehu.marketing.consent.links import unsubscribe_token
    from kehu.marketing.referrals import services as referrals
    from kehu.sales import services as sales
    from kehu.sales.credit import services as credit
    from kehu.sales.plans import services as plans
    from kehu.service.chain import services as chain
    from kehu.service.knowledge import services as knowledge
    from kehu.tasks import services as tasks

    admin, east, north = users["admin"], customers["east"], customers["north"]
    article = knowledge.create_article(admin, {"title": "墨粉不足", "problem": "颜色淡",
                                               "solution": "换墨粉"}, tags="打印机")
    admin.privacy_officer = True
    admin.save(update_fields=["privacy_officer"])
    contact, txn, activity = (children["east"][k] for k in ("contact", "transaction",
                                                             "activity"))
    task = children["east"]["task"]
    token, _raw = tokens.create_token(users["sales1"], "cli")
    from kehu.analytics.models import Referral

    Referral.objects.create(referrer=north, referred=customers["east_b"],
                            referred_on=dt.date(2024, 1, 1), created_by=admin)
    from kehu.analytics.models import CustomerValue, ValueRefresh

    scored = customers["east_b"]
    CustomerValue.objects.create(customer=scored, refresh=ValueRefresh.objects.create(
        as_of=dt.date(2024, 1, 1), status="done"), purchase_days=2)
    east_b_code = referrals.issue_referral_code(admin, customers["east_b"])
    other = cs.create_contact(admin, east, {"name": "王伟", "phone": "13800138000"})
    spare = cs.create_customer(admin, {"name": "待删除客户"})
    pair = _pair(admin, east)
    today = dt.date.today()
    receivable = children["east"]["receivable"]  # overdue since 2024
    limited = cs.create_customer(admin, {"name": "限额客户", "credit_limit": "1"})
    over = cs.create_transaction(admin, limited, date=today, amount="10")
    part_paid = credit.create_receivable(admin, limited, issued_on=today, amount="10")
    credit.record_payment(admin, part_paid, paid_on=today, amount="4")
    type(part_paid).objects.filter(pk=part_paid.pk).update(paid=0)  # out of step: resettled
    csv = tmp_path / "customers.csv"
    csv.write_text("客户名称,手机\n一号客户,13800000001\n二号客户,13800000002\n",
                   encoding="utf-8")
    batch = imports.import_file(admin, "customers", csv).batch_id
    from axes.models import AccessAttempt
    from django.utils import timezone

    AccessAttempt.objects.create(username="sales2", ip_address="198.51.100.1",
                                 failures_since_start=20, attempt_time=timezone.now(),
                                 user_agent="x", get_data="", post_data="", http_accept="",
                                 path_info="/accounts/login/")

    from kehu.loans import services as loans
    from kehu.loans.selectors import RegisterFilters
    from kehu.service.surveys import services as surveys
    from kehu.service.surveys.models import Purpose
    from tests.service.surveys_factory import QUESTIONS, answers_for, make_survey

    survey = make_survey(admin)
    make_survey(admin, Purpose.AFTER_TICKET, name="After tickets")
    make_survey(admin, Purpose.KEY_CUSTOMERS, name="Key customers")
    invitation = surveys.send_survey(admin, survey, east).invitation
    from kehu.service.tickets.models import Ticket
    from kehu.service.tickets.services import open_ticket

    closed = open_ticket(admin, north, subject="Closed before surveys")
    Ticket.objects.filter(pk=closed.pk).update(status="closed")

    borrower = users["sales2"]
    asked = loans.request_loan(users["sales1b"], north.name, "A caller asked about an order")
    lent = loans.approve_loan(admin, loans.request_loan(borrower, customers["east_b"].name,
                                                        "Visit next week"))
    from kehu.customers.models import StateLock

    north_plan = plans.create_plan(admin, north, {})
    sheet = plans.add_competitor(admin, north_plan, new_name="Rival")
    step = plans.add_step(admin, north_plan, title="Meet", owner=users["sales2"],
                          due_on=today)
    StateLock.objects.create(customer=customers["east_b"], reason="Contract",
                             locked_at=timezone.now(), locked_by=admin)
    from kehu.sales.leads import services as leads

    lead = leads.create_lead(admin, {"name": "线索", "source": "website"},
                             judgements={"money": (True, ""), "authority": (True, ""),
                                         "need": (True, "")})
    lead_cases = {
        "sales.leads.create_lead": lambda: leads.create_lead(
            admin, {"name": "L", "source": "website"}),
        "sales.leads.update_lead": lambda: leads.update_lead(admin, F(lead), {"notes": "x"}),
        "sales.leads.judge_lead": lambda: leads.judge_lead(admin, F(lead),
                                                           {"need": (False, "no")}),
        "sales.leads.add_lead_contact": lambda: leads.add_lead_contact(admin, F(lead),
                                                                       {"name": "王"}),
        "sales.leads.convert_lead": lambda: leads.convert_lead(admin, F(lead)),
    }
    from kehu.marketing.campaigns import services as campaigns

    marketer = users["marketing1"]
    dynamic = campaigns.create_target_list(marketer, {"name": "Dyn"}, criteria={})
    draft = campaigns.create_campaign(
        marketer, {"name": "C", "kind": "personal_selling", "starts_on": today,
                   "channels": ["visit"], "holdout_percent": 0}, target_list=dynamic)
    running = campaigns.create_campaign(
        marketer, {"name": "R", "kind": "sales_promotion", "starts_on": today,
                   "channels": ["post"]}, target_list=dynamic)
    running = campaigns.launch_campaign(marketer, running)
    campaign_cases = {
        "marketing.campaigns.create_target_list": lambda: campaigns.create_target_list(
            marketer, {"name": "Frozen"}, criteria={}, kind="frozen"),
        "marketing.campaigns.update_target_list": lambda: campaigns.update_target_list(
            marketer, F(dynamic), {"name": "Renamed"}, criteria={"state": "target"}),
        "marketing.campaigns.freeze_target_list": lambda: campaigns.freeze_target_list(
            marketer, F(dynamic)),
        "marketing.campaigns.create_campaign": lambda: campaigns.create_campaign(
            marketer, {"name": "N", "kind": "advertising", "starts_on": today,
                       "channels": ["media"]}, target_list=dynamic),
        "marketing.campaigns.update_campaign": lambda: campaigns.update_campaign(
            marketer, F(draft), {"name": "N2", "budget": "10"}),
        "marketing.campaigns.launch_campaign": lambda: campaigns.launch_campaign(
            marketer, F(draft)),
        "marketing.campaigns.finish_campaign": lambda: campaigns.finish_campaign(
            marketer, F(running)),
    }
    from kehu.sales.models import Competitor
    from kehu.sales.pipeline import services as pipeline
    from kehu.sales.pipeline.models import Stage

    offer_cases = _offer_cases(admin, customers, children)
    opp = children["east"]["opportunity"]
    stages = {s.name_en: s for s in Stage.objects.all()}
    rival = Competitor.objects.create(name="Pipeline rival")
    from kehu.service.sla import services as sla
    from kehu.service.sla.models import Holiday

    national_day = Holiday.objects.create(day=dt.date(2026, 10, 1), name_en="National Day")
    week = [(d, dt.time(9), dt.time(17)) for d in range(5)]
    every = {("", p): (Decimal("1"), Decimal("8")) for p in ("urgent", "high", "normal", "low")}
    sla_cases = {
        "service.sla.update_service_hours": lambda: sla.update_service_hours(
            admin, time_zone="Asia/Shanghai", warn_percent=20, makeup_as=0, periods=week),
        "service.sla.save_holiday": lambda: sla.save_holiday(
            admin, day=dt.date(2026, 10, 2), kind="holiday", name_en="Golden week"),
        "service.sla.delete_holiday": lambda: sla.delete_holiday(admin, F(national_day)),
        "service.sla.save_targets": lambda: sla.save_targets(admin, "sme", every),
        "service.sla.decide_service_group": lambda: sla.decide_service_group(
            admin, F(east), service_group="large", reason="Group buyer"),
    }
    return {
        **lead_cases,
        **sla_cases,
        **campaign_cases,
        **offer_cases,
        "sales.pipeline.create_opportunity": lambda: pipeline.create_opportunity(
            admin, F(east), title="Deal", stage=stages["Proposal"], amount=Decimal("10"),
            expected_close=today, competitors=[rival]),
        "sales.pipeline.update_opportunity": lambda: pipeline.update_opportunity(
            admin, F(opp), {"title": "Bigger deal", "competitors": [rival]},
            expected_version=None),
        "sales.pipeline.move_opportunity": lambda: pipeline.move_opportunity(
            admin, F(opp), stages["Negotiation"], expected_version=None),
        "sales.pipeline.delete_opportunity": lambda: pipeline.delete_opportunity(admin, F(opp)),
        "sales.pipeline.save_stage": lambda: pipeline.save_stage(
            admin, None, name_en="Survey", name_zh="勘察", order=5, probability=20),
        "sales.pipeline.delete_stage": lambda: pipeline.delete_stage(
            admin, F(stages["Qualification"]), move_to=stages["Proposal"]),
        "sales.pipeline.update_pipeline_settings": lambda: pipeline.update_pipeline_settings(
            admin, stale_after_days=30),
        "sales.pipeline.save_competitor": lambda: pipeline.save_competitor(
            admin, None, name="Another rival"),
        "sales.pipeline.delete_competitor": lambda: pipeline.delete_competitor(admin, F(rival)),
        "customers.create_customer": lambda: cs.create_customer(admin, {"name": "新客户"}),
        "customers.update_customer": lambda: cs.update_customer(
            admin, F(east), {"name": "改名"}, expected_version=None),
        "customers.change_owner": lambda: cs.change_owner(admin, F(east), F(users["sales2"])),
        "customers.set_lifecycle_state": lambda: cs.set_lifecycle_state(
            admin, F(east), "target", reason="x", lock_reason="y"),
        "customers.unlock_lifecycle_state": lambda: cs.unlock_lifecycle_state(
            admin, F(customers["east_b"])),
        "customers.delete_customer": lambda: cs.delete_customer(admin, F(spare)),
        "customers.record_customer_view": lambda: cs.record_customer_view(admin, F(east)),
        "customers.confirm_customer_data": lambda: cs.confirm_customer_data(admin, F(east)),
        "customers.create_contact": lambda: cs.create_contact(admin, F(east), {"name": "李四"}),
        "customers.update_contact": lambda: cs.update_contact(
            admin, F(contact), {"name": "李五"}, expected_version=None),
        "customers.delete_contact": lambda: cs.delete_contact(admin, F(contact)),
        "customers.create_transaction": lambda: cs.create_transaction(
            admin, F(east), date=today, amount=Decimal("10"),
            lines=[{"description": "x", "quantity": 1, "unit_price": 10}]),
        "customers.delete_transaction": lambda: cs.delete_transaction(admin, F(txn)),
        "sales.log_activity": lambda: sales.log_activity(admin, F(east), kind="call",
                                                         subject="Hi"),
        "sales.delete_activity": lambda: sales.delete_activity(admin, F(activity)),
        "sales.plans.create_plan": lambda: plans.create_plan(admin, F(customers["east_b"]),
                                                             {"objectives": "Grow"}),
        "sales.plans.update_plan": lambda: plans.update_plan(
            admin, F(north_plan), {"objectives": "x"}, expected_version=None),
        "sales.plans.add_competitor": lambda: plans.add_competitor(
            admin, F(north_plan), new_name="Rival two", data={"strengths": "Price"}),
        "sales.plans.update_competitor": lambda: plans.update_competitor(
            admin, F(sheet), {"strengths": "x"}, expected_version=None),
        "sales.plans.remove_competitor": lambda: plans.remove_competitor(admin, F(sheet)),
        "sales.plans.add_step": lambda: plans.add_step(
            admin, F(north_plan), title="Call", owner=F(users["sales2"]), due_on=today),
        "sales.plans.update_step": lambda: plans.update_step(
            admin, F(step), title="Meet again", owner=F(users["sales2"]), due_on=today,
            expected_version=None),
        "sales.plans.delete_step": lambda: plans.delete_step(admin, F(step)),
        "sales.plans.complete_step": lambda: plans.complete_step(admin, F(step)),
        "sales.credit.create_receivable": lambda: credit.create_receivable(
            admin, F(east), issued_on=today, amount="10", number="T-1"),
        "sales.credit.update_receivable": lambda: credit.update_receivable(
            admin, F(receivable), {"notes": "checked"}),
        "sales.credit.record_payment": lambda: credit.record_payment(
            admin, F(receivable), paid_on=today, amount="1"),
        "sales.credit.record_credit_incident": lambda: credit.record_credit_incident(
            admin, F(east), kind="dumping", occurred_on=today, description="低价倾销"),
        "sales.credit.flag_transaction": lambda: credit.flag_transaction(admin, F(over)),
        "sales.credit.flag_imported_transactions": lambda: credit.flag_imported_transactions(
            admin, (over.pk, over.pk)),
        "sales.credit.flag_opportunity": lambda: credit.flag_opportunity(admin, F(limited),
                                                                         "100"),
        "sales.credit.open_overdue_tasks": lambda: credit.open_overdue_tasks(today),
        "sales.credit.resettle_receivables": lambda: credit.resettle_receivables(
            admin, [part_paid.pk]),
        "tasks.add_task": lambda: tasks.add_task(admin, F(east), title="Visit"),
        "tasks.complete_task": lambda: tasks.complete_task(admin, F(task), note="ok"),
        "tasks.dismiss_task": lambda: tasks.dismiss_task(admin, F(task), note="not needed"),
        "tasks.reassign_task": lambda: tasks.reassign_task(admin, F(task), F(users["sales1"])),
        "tasks.reassign_tasks": lambda: tasks.reassign_tasks(admin, [F(task)],
                                                             F(users["sales1"])),
        "tasks.open_list_tasks": lambda: tasks.open_list_tasks(
            admin, [F(east)], origin="list:at_risk", title="Call"),

        "accounts.move_user_to_team": lambda: accounts.move_user_to_team(
            admin, F(users["sales1"]), None),
        "accounts.create_token": lambda: tokens.create_token(admin, "x"),
        "accounts.revoke_token": lambda: tokens.revoke_token(users["sales1"], F(token)),
        "accounts.revoke_user_tokens": lambda: tokens.revoke_user_tokens(
            F(users["sales1"]), "inactive", actor=admin),
        "accounts.credentials_changed": lambda: accounts.credentials_changed(
            F(users["sales1"]), new_password=True),
        "accounts.unlock_sign_in": lambda: accounts.unlock_sign_in(admin, username="sales2"),
        "analytics.set_currency": lambda: analytics.set_currency(admin, "USD"),
        "analytics.update_settings": lambda: analytics.update_settings(
            admin, {"horizon_months": 24}),
        "analytics.set_activity_cost": lambda: analytics.set_activity_cost(admin, "visit",
                                                                           "300"),
        "analytics.set_segment_action": lambda: analytics.set_segment_action(
            admin, "invest", create_task=True, subject="Visit"),
        "analytics.record_referral": lambda: analytics.record_referral(
            admin, F(east), F(north), referred_on=today),
        "analytics.remove_referral": lambda: analytics.remove_referral(
            admin, F(customers["east_b"])),
        **_ticket_cases(admin, east),
        **_knowledge_cases(admin, east),
        "analytics.raise_risk": lambda: analytics.raise_risk(admin, F(scored), reason="x"),
        "analytics.record_loyalty_statement": lambda: analytics.record_loyalty_statement(
            admin, F(east), stated_on=today, buy_again=8, wallet_share=40),
        "dataio.quality.merge_customers": lambda: merge.merge_customers(
            admin, F(east), F(customers["east_b"]), take_from_loser=["name"],
            survivor_version=None, loser_version=None),
        "dataio.quality.merge_contacts": lambda: merge.merge_contacts(
            admin, F(contact), F(other), take_from_loser=["phone"], survivor_version=None,
            loser_version=None),
        "dataio.privacy.erase_customer": lambda: privacy.erase_customer(admin, F(east),
                                                                        reference="T1"),
        "dataio.privacy.erase_contact": lambda: privacy.erase_contact(admin, F(contact),
                                                                      reference="T2"),
        "dataio.quality.dismiss_pair": lambda: dedup.dismiss_pair(admin, F(pair)),
        "dataio.imports.import_file": lambda: imports.import_file(admin, "customers", csv,
                                                                  update_existing=True),
        "dataio.imports.undo_batch": lambda: imports.undo_batch(admin, batch),
        "dataio.imports.save_mapping": lambda: imports.save_mapping(
            admin, "customers", "ERP", {"客户名称": "name"}),
        "loans.request_loan": lambda: loans.request_loan(borrower, "ERP-404", "Order query"),
        "loans.approve_loan": lambda: loans.approve_loan(admin, F(asked), note="ok"),
        "loans.refuse_loan": lambda: loans.refuse_loan(admin, F(asked), note="no"),
        "loans.withdraw_loan_request": lambda: loans.withdraw_loan_request(
            users["sales1b"], F(asked)),
        "loans.return_loan": lambda: loans.return_loan(borrower, F(lent)),
        "loans.end_loan": lambda: loans.end_loan(admin, F(lent)),
        "loans.close_ended_loans": lambda: loans.close_ended_loans(
            timezone.now() + dt.timedelta(days=40)),
        "loans.mark_answers_seen": lambda: loans.mark_answers_seen(borrower),
        "loans.export_register": lambda: loans.export_register(admin, RegisterFilters()),
        "service.chain.update_chain_settings": lambda: chain.update_chain_settings(
            admin, silent_factor=25),
        "service.chain.open_continuity_tasks": lambda: chain.open_continuity_tasks(admin),
        "marketing.consent.set_consent": lambda: consent.set_consent(
            admin, F(east), channel="email", status="refused", source="phone"),
        "marketing.consent.unsubscribe": lambda: consent.unsubscribe(
            unsubscribe_token(north.pk)),
        "marketing.referrals.issue_referral_code": lambda: referrals.issue_referral_code(
            admin, F(east)),
        "marketing.referrals.record_referral_by_code": lambda: (
            referrals.record_referral_by_code(admin, F(north), east_b_code.code)),
        "marketing.referrals.grant_referral_reward": lambda: referrals.grant_referral_reward(
            admin, F(customers["east_b"].referral), kind="coupon", value="50"),
        "service.surveys.create_survey": lambda: surveys.create_survey(
            admin, {"name_en": "Check", "name_zh": "回访"}, QUESTIONS),
        "service.surveys.update_survey": lambda: surveys.update_survey(
            admin, F(survey), {"valid_days": 3}, QUESTIONS[1:]),
        "service.surveys.send_survey": lambda: surveys.send_survey(admin, F(survey), F(east)),
        "service.surveys.invite_after_ticket": lambda: surveys.invite_after_ticket(
            F(closed)),
        "service.surveys.invite_key_customers": lambda: surveys.invite_key_customers(
            today, [east.pk, north.pk]),
        "service.surveys.submit_answers": lambda: surveys.submit_answers(
            F(invitation), answers_for(survey, csat=1)),
        "service.knowledge.create_article": lambda: knowledge.create_article(
            admin, {"title": "打印机卡纸", "problem": "卡纸", "solution": "清理"},
            tags="打印机, 新标签"),
        "service.knowledge.update_article": lambda: knowledge.update_article(
            admin, F(article), {"title": "复印机卡纸"}, expected_version=None,
            tags="复印机"),
    }


def _knowledge_cases(admin, customer) -> dict[str, Callable[[], object]]:
    from kehu.service.knowledge import services as knowledge
    from kehu.service.tickets import services as tickets

    solved = tickets.open_ticket(admin, customer, subject="打印机卡纸", description="卡纸")
    tickets.change_status(admin, solved, "resolved", resolution="清理纸屑")
    other = tickets.open_ticket(admin, customer, subject="又卡纸")
    article = knowledge.create_article(admin, {"title": "卡纸", "problem": "卡纸",
                                               "solution": "清理"}, ticket=other)
    link = article.ticket_links.get()
    return {
        "service.knowledge.link_ticket": lambda: knowledge.link_ticket(admin, F(article),
                                                                       F(solved)),
        "service.knowledge.unlink_ticket": lambda: knowledge.unlink_ticket(admin, F(link)),
        "service.knowledge.write_article_from_ticket":
            lambda: knowledge.write_article_from_ticket(admin, F(solved)),
    }


def _mail(customer) -> bytes:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = customer.email, "Help", "<one@x>"
    msg.set_content("Please call")
    return msg.as_bytes()


def _ticket_cases(admin, customer) -> dict[str, Callable[[], object]]:
    from kehu.service.tickets import services as tickets
    from kehu.service.tickets.models import TicketCategory

    ticket = tickets.open_ticket(admin, customer, subject="Jam", kind="complaint")
    waiting = tickets.open_ticket(admin, customer, subject="Waiting")
    tickets.change_status(admin, waiting, "waiting")
    category = TicketCategory.objects.first()
    return {
        "service.tickets.open_ticket": lambda: tickets.open_ticket(
            admin, F(customer), subject="New", kind="complaint", description="x"),
        "service.tickets.update_ticket": lambda: tickets.update_ticket(
            admin, F(ticket), {"priority": "high"}, expected_version=None),
        "service.tickets.assign_ticket": lambda: tickets.assign_ticket(admin, F(ticket),
                                                                       admin),
        "service.tickets.change_status": lambda: tickets.change_status(admin, F(ticket),
                                                                       "resolved"),
        "service.tickets.close_ticket": lambda: tickets.close_ticket(admin, F(ticket)),
        "service.tickets.add_entry": lambda: tickets.add_entry(
            admin, F(waiting), kind="customer", body="answer", minutes=5),
        "service.tickets.receive_email": lambda: tickets.receive_email(_mail(customer)),
        "service.tickets.save_category": lambda: tickets.save_category(
            admin, None, name_en="X", name_zh="X"),
        "service.tickets.delete_category": lambda: tickets.delete_category(admin,
                                                                           F(category)),
    }


def _offer_cases(admin, customers, children) -> dict[str, Callable[[], object]]:
    from kehu.customers.services import create_transaction
    from kehu.marketing.offers import services as offers
    from kehu.marketing.offers.models import Coupon, OfferList
    from tests.marketing.conftest import set_loyalty

    east, east_b = customers["east"], customers["east_b"]
    txn = children["east"]["transaction"]
    today = dt.date.today()
    set_loyalty(east, 80.0, "invest")
    set_loyalty(east_b, 60.0, "develop")
    create_transaction(admin, east_b, date=today - dt.timedelta(days=2), amount="150.00")
    offer_list = OfferList.objects.create(customer=east, as_of=txn.date,
                                          valid_until=txn.date + dt.timedelta(days=14),
                                          spend=Decimal("100"))
    Coupon.objects.create(code="KH-TEST-0001", customer=east, offer_list=offer_list,
                          tier_name="Gold", discount_percent=15, valid_from=txn.date,
                          valid_until=txn.date + dt.timedelta(days=28))
    return {
        "marketing.offers.build_offer_list": lambda: offers.build_offer_list(admin, F(east)),
        "marketing.offers.build_offer_lists": lambda: offers.build_offer_lists(admin),
        "marketing.offers.redeem_coupon": lambda: offers.redeem_coupon(
            admin, "KH-TEST-0001", F(txn)),
        "marketing.offers.record_offer_output": lambda: offers.record_offer_output(
            admin, F(offer_list), "print"),
        "marketing.offers.send_offer_list": lambda: offers.send_offer_list(admin,
                                                                           F(offer_list)),
        "marketing.offers.start_offer_mailing": lambda: offers.start_offer_mailing(
            admin, today=txn.date),
        "marketing.offers.update_offer_settings": lambda: offers.update_offer_settings(
            admin, {"spend_threshold": Decimal("50.00")}),
        "marketing.offers.save_coupon_tier": lambda: offers.save_coupon_tier(
            admin, None, {"name_en": "Platinum", "name_zh": "白金卡", "min_loyalty": 90,
                          "discount_percent": 20, "min_order": Decimal("0"),
                          "valid_days": 14, "segments": "invest", "active": True}),
    }


def F(obj):  # noqa: N802 - reads as a marker in the table above
    """A fresh copy of a record: each case runs twice, and services change the instances
    they are given."""
    return type(obj)._base_manager.get(pk=obj.pk)


def _pair(admin, east):
    from django.utils import timezone

    from kehu.customers.services import create_customer
    from kehu.dataio.models import CustomerPair

    twin = create_customer(admin, {"name": east.name, "phone": east.phone})
    a, b = sorted((east.pk, twin.pk))
    return CustomerPair.objects.create(a_id=a, b_id=b, score=95, reasons=[],
                                       found_at=timezone.now())


# Public functions of services modules that write nothing of their own, or that are not one
# transaction by design, and why.
NOT_WRITERS = {
    "service.knowledge.parse_tags": "reads tags from the text a user typed",
    "service.knowledge.draft_from_ticket": "reads a solved ticket into an unsaved article",
    "analytics.running_refresh": "reads which refresh job is running",
    "analytics.start_refresh": "queues a background job; the refresh writes its scores in "
                               "short transactions, a batch of customers each "
                               "(tests/analytics/test_refresh_concurrency.py)",
    "customers.check_external_id": "a check, reads only",
    "loans.matching_customers": "finds where a request to borrow goes; reads only",
    "tasks.may_close": "a check, reads only",
    "service.surveys.is_low": "says whether scores are low; reads nothing",
    "tasks.open_tasks": "a rule's step, inside the transaction of the job that runs the rule "
                        "(the value refresh, the stale-data job)",
    "tasks.open_capped_tasks": "a rule's step, inside the last transaction of the value "
                               "refresh's write",
    "tasks.close_rule_tasks": "a rule's step, inside the transaction of the service that "
                              "closes it (confirm_customer_data)",
    "tasks.revise_rule_task": "a record's step, inside the transaction of the service that "
                              "edits the record (a key-account plan's step)",
    "tasks.withdraw_rule_tasks": "a record's step, inside the transaction of the service "
                                 "that deletes the record (a key-account plan's step)",
    "analytics.record_referral_of_lead": "receives lead_converted inside the transaction of "
                                         "convert_lead (tests/api/test_leads.py)",
    "service.chain.owners_changed": "receives customers.owners_changed inside the "
                                    "transaction of the owner change (tests/service)",
    "sales.pipeline.stale_origin": "names a stale opportunity's task; writes nothing",
    "service.tickets.complaint_origin": "names a complaint's task; writes nothing",
    "marketing.offers.new_coupon_code": "makes a random code; writes nothing",
    "audit.record": "one INSERT, made inside the transaction of the service that calls it",
    "dataio.imports.role_problem": "says why a role may not import a kind of file",
    # Reads, then writes one audit row (audit.record): nothing can be left half done, and a
    # transaction around a long read would make SQLite refuse the audit row's write when
    # somebody else wrote meanwhile.
    "dataio.exports.export": "reads a list into a file, then records one audit row",
    "dataio.privacy.export_customer": "reads a person's data, then records one audit row",
    "dataio.privacy.export_contact": "reads a contact's data, then records one audit row",
    "dataio.exports.customer_columns": "the columns of the customer list a user may export",
    "dataio.exports.transaction_columns": "the columns of the transaction list",
    "dataio.exports.add_columns": "registers another app's export columns at start-up",
    "dataio.exports.extra_columns": "the columns other apps add to an export",
    "audit.record_list": "one INSERT (audit.record) for a list that was read",
    "audit.customer_set": "names a set of customers for an audit row; writes nothing",
    "audit.used_filters": "the filters of a list for an audit row; writes nothing",
}


def _public_services() -> set[str]:
    found = set()
    for info in pkgutil.walk_packages(kehu.__path__, "kehu."):
        if not info.name.endswith(".services"):
            continue
        module = importlib.import_module(info.name)
        # kehu.customers.services -> customers, kehu.dataio.imports.services -> dataio.imports
        app = info.name.removeprefix("kehu.").removesuffix(".services")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_"):
                found.add(f"{app}.{name}")
    return found


def test_every_service_is_covered(users, customers, children, tmp_path):
    listed = set(_cases(users, customers, children, tmp_path)) | set(NOT_WRITERS)
    missing = _public_services() - listed
    assert not missing, f"add these services to the cases of this test: {sorted(missing)}"


def test_a_failed_last_write_leaves_nothing_behind(users, customers, children, tmp_path):
    cases = _cases(users, customers, children, tmp_path)
    for name, call in cases.items():
        writes = _count_writes(call)
        assert writes, f"{name} wrote nothing"
        before = _snapshot()
        _fail_write(call, writes)
        assert not connection.needs_rollback, (
            f"{name}: its last write failed outside a transaction of its own, and took the "
            "caller's transaction down with it")
        after = _snapshot()
        changed = sorted(label for label in before if before[label] != after[label])
        assert not changed, f"{name}: its last write failed, yet it left writes in {changed}"
