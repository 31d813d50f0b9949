"""A stored-XSS sweep in Chromium: script payloads in every free-text field of every record
that hangs off a customer, then every page a user reaches, loaded and looked at.

The fields come from the models (every CharField and TextField without choices of the
customer, its contacts, transactions and their lines, activities, lifecycle and owner
history, referrals), so a field added later is swept too. The pages come from the URL
resolver, with the records each URL parameter names, every tab of the card, and the
query strings in QUERIES; a URL parameter the sweep does not know makes it fail. On every
page: no dialog opens, no payload ran (each sets the global `xss` before it alerts), no
element carries an inline event handler or a javascript: link, no inline script is there
that kehu did not write, and no template expression was evaluated. The value dashboard's
charts are hovered point by point so that their tooltips render, the matrix's on the
payload customers themselves; the import wizard's columns and preview show a file full of
payloads; downloads must never be served as a page.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.apps import apps
from django.db import models
from django.urls import get_resolver, reverse

from kehu.core.permissions import CUSTOMER_PATHS
from tests.api.test_web_authorization_matrix import _walk
from tests.browser.test_import_wizard import upload
from tests.browser.test_ui_flow import sign_in

pytestmark = pytest.mark.browser

# Each sets the global `xss` to its number as it alerts, in as few characters as will do:
# the shortest free-text field holds 30. Quotes close attributes of either kind.
PAYLOADS = [
    '"><img src=x onerror=alert(xss=1)>',
    "<script>alert(xss=2)</script>",
    "javascript:alert(xss=3)",
    "tpl{{7*7}}tpl",
    "</script><svg onload=alert(xss=5)>",
    "'><svg onload=alert(xss=6)>",
]
TEMPLATE_EVALUATED = "tpl49tpl"

# Records that hang off a customer but are not in CUSTOMER_PATHS, by the path to it.
MORE_RECORDS = {"customers.transactionline": "transaction__customer__",
                "analytics.referral": "referred__", "loans.loan": "customer__",
                "analytics.loyaltystatement": "customer__",
                # A lead the customer referred, its other contacts and its judgements.
                "sales.lead": "referrer__", "sales.leadcontact": "lead__referrer__",
                "sales.manjudgement": "lead__referrer__",
                # A manager's decision of the customer's service group, with its reason.
                "service.servicegroupchoice": "customer__"}
# Internal text that no user writes and no page shows as text.
NOT_FREE_TEXT = {"customers.customer.search_text", "service.article.search_text",
                 # The code of the rule that made a task (one open task per code and
                 # customer); pages show the rule's title, swept as the task's title.
                 "tasks.task.origin",
                 # Made by kehu from an alphabet of capitals and digits; nobody types one in.
                 "marketing.referralcode.code",
                 # A survey link's secret and language code, never shown; the link they
                 # make is opened below.
                 "service.surveyinvitation.nonce", "service.surveyinvitation.language",
                 # The Message-ID of an e-mail a ticket came from: matched, never shown.
                 "service.ticket.email_message_id",
                 "service.ticketentry.email_message_id"}

# Query strings each page is also opened with ({q} is a payload, URL-encoded).
QUERIES = {
    "customers:list": ["?q={q}", "?sort=updated&dir=desc"],
    "dataio:duplicates": ["?kind=customers", "?kind=contacts"],
    "dataio:privacy": ["?q={q}"],
    "analytics:referrer_options": ["?referrer={q}"],
    "dataio:export_download": ["?what=customers&format=csv", "?what=customers&format=xlsx",
                               "?what=transactions&format=csv"],
    "audit:events": ["?action=customer"],
    "workbench:home": ["?week=2026-06-29", "?week={q}"],
    "service:articles": ["?q={q}", "?tag={q}", "?q=img"],
    "service:article_suggestions": ["?subject={q}", "?subject=img+script+svg"],
}
# Pages that show no customer data, or need a state the sweep does not make.
SKIPPED = {
    "logout": "would end the session",
    "set_language": "a redirect, no page",
    "api_token_revoke": "revokes a token on POST; a token's page shows no customer data",
    "core:job": "a job's progress line: counts and a translated message",
    "dataio:import_run": "POST only; the wizard is driven below",
    "dataio:batch_undo": "POST only",
    "dataio:quality_run": "POST only",
    "dataio:duplicate_dismiss": "POST only",
    "analytics:activity_cost": "POST only",
    "analytics:segment_action": "POST only",
    "analytics:list_tasks": "POST only",
    "sales:stage": "POST only", "sales:stage_delete": "POST only",
    "sales:competitor": "POST only", "sales:competitor_delete": "POST only",
    "service:sla_holiday_delete": "POST only",
}

CHECK_PAGE = """() => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (a.name.startsWith('on')) { found.push(el.tagName + ' has ' + a.name); }
      if (['href', 'src', 'action', 'formaction', 'xlink:href', 'data'].includes(a.name)
          && /^\\s*javascript:/i.test(a.value)) {
        found.push(el.tagName + ' ' + a.name + '=' + a.value);
      }
    }
  }
  for (const s of document.querySelectorAll('script:not([src])')) {
    if (s.type !== 'application/json') {
      found.push('inline script: ' + s.textContent.slice(0, 60));
    }
  }
  if (typeof window.xss !== 'undefined') { found.push('a payload ran: xss=' + window.xss); }
  return found;
}"""


def _free_text_fields(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField) and not f.choices
            and f"{model._meta.label_lower}.{f.name}" not in NOT_FREE_TEXT]


def _payload_for(field: models.Field, i: int) -> str:
    """Payload i, or the next one that fits the field; a unique field gets a suffix."""
    limit = field.max_length or 10_000
    for candidate in PAYLOADS[i:] + PAYLOADS[:i]:
        value = f"{candidate}{i}" if field.unique else candidate
        if len(value) <= limit:
            return value
    raise AssertionError(f"no payload fits {field}")


@pytest.fixture
def poisoned(users, customers):
    """Two hundred scored customers of team East; the first ones carry a payload each in
    every free-text field of everything that hangs off them, and are paired as likely
    duplicates."""
    from django.utils import timezone

    from kehu.analytics.refresh import refresh_values
    from kehu.analytics.services import record_loyalty_statement, record_referral
    from kehu.customers.models import Customer, Product, Transaction
    from kehu.customers.services import (
        change_owner,
        create_contact,
        create_transaction,
        set_lifecycle_state,
    )
    from kehu.dataio.models import ContactPair, CustomerPair
    from kehu.loans.services import approve_loan, request_loan
    from kehu.marketing.consent.sending import send_marketing_email
    from kehu.marketing.consent.services import set_consent
    from kehu.marketing.offers.models import Coupon, CouponTier, OfferItem, OfferList, OfferSend
    from kehu.marketing.referrals.services import grant_referral_reward, issue_referral_code
    from kehu.sales.credit import services as credit
    from kehu.sales.leads.services import create_lead
    from kehu.sales.pipeline.models import Stage
    from kehu.sales.pipeline.services import create_opportunity
    from kehu.sales.plans import services as plans
    from kehu.sales.services import log_activity
    from kehu.service.sla.services import decide_service_group
    from kehu.tasks.models import HeldBack, Playbook
    from kehu.tasks.services import add_task
    from kehu.value.datasets import simulate_transactions

    admin = users["admin"]
    admin.privacy_officer = True
    admin.save()
    now = timezone.now()
    today = timezone.localdate()
    log = simulate_transactions(200, seed=11, start="2024-06-01", as_of="2026-06-30")
    owners = [users["sales1"], users["sales1b"]]
    firm = Customer.objects.bulk_create([
        Customer(name=f"华东客户{i:03d}", owner=owners[i % 2], team_id=owners[i % 2].team_id,
                 city="上海") for i in range(200)])
    Transaction.objects.bulk_create([
        Transaction(customer=firm[int(c) - 1], date=d.astype(object),
                    amount=Decimal(f"{a:.2f}"), cost=Decimal(f"{a * 0.6:.2f}"))
        for c, d, a in zip(log.customer_id, log.date, log.amount, strict=True)])
    victims = firm[:len(PAYLOADS)]
    swept_product = Product.objects.create(code="SWEPT", name=PAYLOADS[2] + PAYLOADS[0],
                                           unit_price=Decimal("9.90"))
    for i, customer in enumerate(victims):
        contact = create_contact(admin, customer, {"name": f"Contact {i}"})
        txn = create_transaction(admin, customer, date=dt.date(2026, 5, 1),
                                 lines=[{"description": "x", "quantity": "1",
                                         "unit_price": "100.00", "unit_cost": "40.00"}])
        log_activity(admin, customer, kind="visit", subject=f"Visit {i}", contact=contact)
        add_task(admin, customer, title=f"Task {i}", assignee=customer.owner)
        # On the admin's workbench: a visit planned for today (beside the one made now).
        add_task(admin, customer, title=f"Visit {i}", due_on=today, kind="visit")
        # A request to borrow the file, lent: the loan pages show the customer's name.
        approve_loan(admin, request_loan(users["sales2"], customer.name, f"Reason {i}"))
        # Locked by hand: the lock's reason shows on the card and in the history.
        set_lifecycle_state(admin, customer, "target", reason="r", lock_reason="r")
        record_loyalty_statement(admin, customer, stated_on=dt.date(2026, 5, 2),
                                 buy_again=8, recommend=9, wallet_share=50, note="n")
        other = users["sales1"] if customer.owner_id == users["sales1b"].pk else users["sales1b"]
        change_owner(admin, customer, other, reason="r")
        customer.refresh_from_db()  # its new owner is who plans and deals name
        record_referral(admin, customer, victims[(i + 1) % len(victims)],
                        referred_on=dt.date(2026, 1, 1))
        decide_service_group(admin, customer, service_group="large", reason=f"Reason {i}")
        # A key-account plan with a competitor on its sheet and a step; the competitor's
        # name is typed by people too.
        plan = plans.create_plan(admin, customer, {}, owner=admin)
        plans.add_competitor(admin, plan, new_name=PAYLOADS[i])
        plans.add_step(admin, plan, title=f"Step {i}", owner=admin,
                       due_on=dt.date(2026, 7, 1))
        # A lead the customer referred, on its owner's workbench as a task.
        create_lead(admin, {"name": f"Lead {i}", "source": "referral"}, owner=customer.owner,
                    referrer=customer, contacts=[{"name": f"Person {i}"}],
                    judgements={"money": (True, "m"), "authority": (False, "a"),
                                "need": (True, "n")})
        assert txn.lines.exists()
        # Consent with a note, a marketing e-mail (held back: no address), a referral code
        # and the reward for the referral above.
        set_consent(admin, customer, channel="email", status="given", source="form",
                    note="n")
        send_marketing_email(admin, customer, subject=f"News {i}", body="x",
                             origin="mailing")
        issue_referral_code(admin, victims[(i + 1) % len(victims)])
        grant_referral_reward(admin, customer.referral, kind="gift", value="1", note="n")
        # Credit: a receivable of the order with a payment, an incident, and a flag.
        receivable = credit.create_receivable(admin, customer, issued_on=dt.date(2026, 5, 1),
                                              amount="100.00", transaction_id=txn.pk)
        credit.record_payment(admin, receivable, paid_on=dt.date(2026, 5, 2), amount="10.00")
        credit.record_credit_incident(admin, customer, kind="dumping",
                                      occurred_on=dt.date(2026, 5, 3), description="d")
        Customer.objects.filter(pk=customer.pk).update(credit_limit=Decimal("1.00"))
        credit.flag_opportunity(admin, Customer.objects.get(pk=customer.pk), "500")
        create_opportunity(admin, customer, title=f"Deal {i}", stage=Stage.objects.first(),
                           amount=Decimal("1000"), expected_close=today, owner=admin)
        # A ticket with its conversation and a status change that says why.
        from kehu.service.tickets import services as tickets

        ticket = tickets.open_ticket(admin, customer, subject=f"Ticket {i}", contact=contact,
                                     kind="complaint", description="d")
        tickets.add_entry(admin, ticket, kind="reply", body="b", minutes=5, waiting=True)
        tickets.change_status(admin, ticket, "resolved", resolution="r", note="n")
        # A personalised offer list with an item, a coupon and a send.
        offer_list = OfferList.objects.create(customer=customer, as_of=today, spend=100,
                                              valid_until=today + dt.timedelta(days=14))
        OfferItem.objects.create(offer_list=offer_list, position=1, kind="suggested",
                                 product=swept_product, price=Decimal("9.90"),
                                 because=swept_product, share=0.5, co_buyers=3)
        Coupon.objects.create(code=f"C{i}", customer=customer, offer_list=offer_list,
                              tier_name="t", discount_percent=10, valid_from=today,
                              valid_until=today + dt.timedelta(days=28))
        OfferSend.objects.create(offer_list=offer_list, channel="email", status="refused",
                                 recipient="r", note="n", at=now)
        # A satisfaction survey answered with a low score, and one waiting for an answer;
        # the survey's own words are typed by a manager.
        from kehu.service.surveys import services as surveys
        from kehu.service.surveys.models import Survey, SurveyQuestion
        from tests.service.surveys_factory import answers_for, make_survey

        survey = Survey.objects.first() or make_survey(admin)
        surveys.submit_answers(surveys.send_survey(admin, survey, customer).invitation,
                               answers_for(survey, csat=1))
        surveys.send_survey(admin, survey, customer)
    Survey.objects.update(name_en=PAYLOADS[0], name_zh=PAYLOADS[1], intro_en=PAYLOADS[3],
                          intro_zh=PAYLOADS[4])
    SurveyQuestion.objects.update(text_en=PAYLOADS[5], text_zh=PAYLOADS[2])
    # A campaign over the firm (its contacts name the customers) and target lists, every
    # text of theirs a payload, a payload in a list's filter too (kehu.marketing).
    from kehu.marketing.campaigns import services as campaigns
    from kehu.marketing.campaigns.models import Campaign, TargetList

    frozen = campaigns.create_target_list(admin, {"name": "L"}, criteria={}, kind="frozen")
    campaigns.create_target_list(admin, {"name": "D"}, criteria={"industry": PAYLOADS[2],
                                                                 "city": PAYLOADS[5]})
    campaigns.launch_campaign(admin, campaigns.create_campaign(
        admin, {"name": "C", "kind": "personal_selling", "starts_on": today,
                "channels": ["visit"], "holdout_percent": 20}, target_list=frozen))
    for model in (Campaign, TargetList):
        for i, row in enumerate(model.objects.all()):
            model.objects.filter(pk=row.pk).update(
                **{f.name: _payload_for(f, i + 1) for f in _free_text_fields(model)})
    from tests.marketing.conftest import ensure_coupon_tiers

    ensure_coupon_tiers()
    CouponTier.objects.filter(pk=CouponTier.objects.first().pk).update(
        name_en=PAYLOADS[0], name_zh=PAYLOADS[1])
    filled = {}
    for label in [*CUSTOMER_PATHS, *MORE_RECORDS]:
        model = apps.get_model(label)
        if not _free_text_fields(model):
            continue  # figures only (a customer's scores): nothing a user types
        prefix = CUSTOMER_PATHS.get(label, MORE_RECORDS.get(label))
        for i, customer in enumerate(victims):
            rows = model.objects.filter(**{f"{prefix}pk": customer.pk})
            assert rows.exists(), f"the sweep makes no {label} for a customer; add one above"
            values = {f.name: _payload_for(f, i) for f in _free_text_fields(model)}
            rows.update(**values)
            filled[label] = sorted(values)
    now = timezone.now()
    for a, b in zip(victims, victims[1:], strict=False):
        CustomerPair.objects.create(a=a, b=b, score=95, found_at=now, reasons=[
            {"code": "phone", "value": PAYLOADS[0]}, {"code": "different_cities",
                                                      "value": PAYLOADS[4]}])
        ContactPair.objects.create(a=a.contacts.get(), b=b.contacts.get(), score=90,
                                   found_at=now, reasons=[{"code": "name", "value": 90}])
    # The playbooks' texts become the titles of the refresh's tasks (the team's overdue
    # tasks on the admin's workbench); what the refresh held back is named on it too.
    for i, book in enumerate(Playbook.objects.all()):
        values = {f.name: _payload_for(f, i) for f in _free_text_fields(Playbook)
                  if f.name != "state"}
        Playbook.objects.filter(pk=book.pk).update(**values)
    # The ticket categories are typed by an admin and shown on every ticket.
    from kehu.service.tickets.models import TicketCategory

    for i, category in enumerate(TicketCategory.objects.order_by("pk")):
        TicketCategory.objects.filter(pk=category.pk).update(
            name_en=PAYLOADS[i % len(PAYLOADS)][:80],
            name_zh=PAYLOADS[(i + 1) % len(PAYLOADS)][:80])
    Ticket = apps.get_model("service", "Ticket")  # noqa: N806
    Ticket.objects.filter(customer__in=victims).update(
        category=TicketCategory.objects.order_by("pk").first())
    refresh_values(admin, as_of=dt.date(2026, 6, 30))
    for i in range(len(PAYLOADS)):
        HeldBack.objects.create(source="sweep", assignee=admin, origin=f"sweep:{i}", count=2,
                                **{f.name: _payload_for(f, i)
                                   for f in _free_text_fields(HeldBack)
                                   if f.name in {"title", "list_query"}})
    # Knowledge-base articles (no customer's): a payload in every free-text field and tag.
    from kehu.service.knowledge.models import Article
    from kehu.service.knowledge.services import create_article

    for i, payload in enumerate(PAYLOADS):
        article = create_article(admin, {"title": f"Article {i}", "problem": "p",
                                         "solution": "s"}, tags=[payload, f"tag {i}"])
        Article.objects.filter(pk=article.pk).update(**{
            f.name: _payload_for(f, i) for f in _free_text_fields(Article)})
    victims = list(Customer.objects.filter(pk__in=[v.pk for v in victims]).order_by("pk"))
    return {"victims": victims, "filled": filled}


class Sweep:
    """Opens pages in one browser tab and checks each as it goes."""

    def __init__(self, page, live_server, shot):
        self.page, self.live_server, self.shot = page, live_server, shot
        self.dialogs: list[str] = []
        self.opened: list[str] = []
        page.on("dialog", lambda d: (self.dialogs.append(f"{d.message} on {page.url}"),
                                     d.dismiss()))

    def check(self, where: str) -> None:
        problems = self.page.evaluate(CHECK_PAGE)
        assert not self.dialogs, self.dialogs
        assert not problems, (where, problems)
        assert TEMPLATE_EVALUATED not in self.page.content(), where

    def visit(self, url: str) -> None:
        response = self.page.request.get(self.live_server.url + url)
        kind = response.headers.get("content-type", "")
        if response.status == 405 or (response.status == 404 and "json" in kind):
            return  # a POST-only URL, or an API path
        assert response.status in (200, 400), (url, response.status)
        if not kind.startswith("text/html"):
            # A download is never served as a page the browser would run.
            assert "attachment" in response.headers.get("content-disposition", "") or \
                kind.startswith(("application/json", "text/csv")), (url, kind)
            return
        self.page.goto(self.live_server.url + url)
        self.page.wait_for_load_state("load")
        self.check(url)
        self.opened.append(url)


def _urls(victims, pairs, upload_id, batch_id) -> list[str]:
    from kehu.analytics.views import MIGRATION_TABLES, TABLES
    from kehu.customers import card
    from kehu.marketing.consent.links import unsubscribe_token
    from kehu.marketing.offers.models import CouponTier
    from kehu.service.surveys import links

    victim = victims[0]
    records = {"pk": victim.pk, "contact_pk": victim.contacts.get().pk,
               "txn_pk": victim.transactions.order_by("-pk").first().pk,
               "activity_pk": victim.activities.get().pk,
               "task_pk": victim.tasks.order_by("pk").first().pk,
               "loan_pk": victim.loans.get().pk,
               "plan_pk": victim.account_plan.pk,
               "sheet_pk": victim.account_plan.competitors.get().pk,
               "step_pk": victim.account_plan.steps.get().pk,
               "receivable_pk": victim.receivables.get().pk,
               "lead_pk": victim.referred_leads.get().pk,
               "opportunity_pk": victim.opportunities.get().pk,
               "survey_pk": victim.survey_invitations.first().survey_id,
               "survey_token": links.token_for(*victim.survey_invitations.filter(
                   answered_at__isnull=True).values_list("pk", "nonce").get()),
               "campaign_pk": victim.campaign_contacts.get().campaign_id,
               "list_pk": victim.target_list_memberships.get().target_list_id,
               "ticket_pk": victim.tickets.get().pk,
               "category_pk": victim.tickets.get().category_id,
               "tier_pk": CouponTier.objects.order_by("pk").first().pk}
    from kehu.service.knowledge.models import Article

    records["article_pk"] = Article.objects.order_by("pk").first().pk
    params = {
        **{name: [value] for name, value in records.items()},
        "table": [*TABLES, *MIGRATION_TABLES],
        "upload_id": [upload_id],
        "batch_id": [batch_id],
        "what": ["scan"],
        "token": [unsubscribe_token(victim.pk)],
    }
    from kehu.marketing.campaigns.models import TargetList

    params["list_pk"] = sorted(TargetList.objects.values_list("pk", flat=True))  # one dynamic
    urls = []
    for name, names, _route in _walk(get_resolver().url_patterns):
        if name in SKIPPED:
            continue
        if set(names) == {"kind", "pair_id"}:
            bases = [reverse(name, kwargs={"kind": kind, "pair_id": pk})
                     for kind, pks in pairs.items() for pk in pks]
        else:
            unknown = set(names) - set(params)
            assert not unknown, f"{name}: the sweep knows no values for {unknown}"
            bases = [reverse(name, kwargs=dict(zip(names, combo, strict=True)))
                     for combo in _product([params[n] for n in names])]
        for base in bases:
            urls.append(base)
            urls += [base + q.format(q=quote(PAYLOADS[0])) for q in QUERIES.get(name, [])]
            if name == "customers:card":
                urls += [f"{base}?tab={key}" for key in [t.key for t in card.tabs()]]
    return urls


def _product(lists: list[list]) -> list[tuple]:
    out: list[tuple] = [()]
    for values in lists:
        out = [(*combo, v) for combo in out for v in values]
    return out


def _hover_charts(sweep: Sweep, victims) -> int:
    """Hover every chart on a grid of points, and the matrix on each payload customer's
    dot; check after each. Returns how many tooltips showed a payload as text."""
    page = sweep.page
    shown = 0
    for chart in page.locator("[data-chart]").all():
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        for fx in (0.2, 0.35, 0.5, 0.65, 0.8):
            for fy in (0.25, 0.5, 0.75):
                page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
                page.wait_for_timeout(30)
                sweep.check(f"dashboard, hovering {chart.get_attribute('data-chart')}")
    matrix = page.locator("[data-chart=matrix]")
    matrix.scroll_into_view_if_needed()
    box = matrix.bounding_box()
    names = [v.name for v in victims]
    points = page.evaluate("""(names) => {
        const chart = echarts.getInstanceByDom(document.querySelector('[data-chart=matrix]'));
        const out = [];
        chart.getOption().series.forEach((s, i) => s.data.forEach((p, j) => {
            if (names.includes(p[2])) {
                out.push([p[2], i, j, chart.convertToPixel({seriesIndex: i}, [p[0], p[1]])]);
            }
        }));
        return out;
    }""", names)
    assert len(points) == len(victims), "every payload customer is a dot of the value matrix"
    for name, series, index, (x, y) in points:
        page.mouse.move(box["x"] + x, box["y"] + y)
        # Another dot may lie on top of this one: ask for this dot's tooltip by its index,
        # drawn by the same formatter as a hover.
        page.evaluate("""([series, index]) => echarts.getInstanceByDom(
            document.querySelector('[data-chart=matrix]')).dispatchAction(
            {type: 'showTip', seriesIndex: series, dataIndex: index})""", [series, index])
        page.wait_for_timeout(200)
        sweep.check(f"dashboard, the tooltip of {name}")
        # The tooltip shows the name as the characters it is.
        page.wait_for_function("(name) => document.querySelector('[data-chart=matrix]')"
                               ".innerText.includes(name)", arg=name)
        shown += 1
        if shown == 1:
            sweep.shot(page, "xss-dashboard-tooltip", full_page=False)
    return shown


def _import_files(tmp_path) -> tuple:
    """A file full of payloads that imports, and one whose bad cells quote them back."""
    import csv

    def write(name: str, rows: list[list[str]]):
        path = tmp_path / name
        with path.open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(rows)
        return path

    good = write("payloads.csv", [["客户名称", "城市", "地址", PAYLOADS[0][:20]],
                                  *[[f"{p} 导入{i}", p[:50], p, p]
                                    for i, p in enumerate(PAYLOADS)]])
    bad = write("bad-payloads.csv", [["客户名称", "邮箱", "业务员"],
                                     *[[f"{p} 坏{i}", p, "nobody" + p[:10]]
                                       for i, p in enumerate(PAYLOADS)]])
    return good, bad


def _run_import(sweep: Sweep, live_server, path) -> tuple[str, int | None]:
    """The wizard up to the preview (checked at each step), then the import itself; the
    upload's id and the batch it made."""
    from kehu.dataio.models import ImportBatch

    page = sweep.page
    upload(page, live_server, path)
    sweep.check("import columns")
    upload_id = re.search(r"/import/([0-9a-f-]{36})/", page.url).group(1)
    page.click("form button.primary")
    page.wait_for_url(re.compile(r".*/preview/$"))
    sweep.check("import preview")
    page.click("#start-import")
    page.wait_for_selector("#import-result, #import-errors", timeout=30_000)
    sweep.check("import result")
    batch = ImportBatch.objects.order_by("-pk").first()
    return upload_id, batch.pk if batch else None


def test_no_payload_runs_on_any_page(page, live_server, users, poisoned, shot, tmp_path,
                                    job_worker):
    victims = poisoned["victims"]
    # Every free-text field of every record type was filled.
    assert {"name", "address", "problems"} <= set(poisoned["filled"]["customers.customer"])
    assert {"subject", "body"} <= set(poisoned["filled"]["sales.activity"])
    page.set_default_timeout(30_000)  # a long walk on a busy machine
    sweep = Sweep(page, live_server, shot)
    sign_in(page, live_server, "admin")
    sweep.check("the customer list")
    good, bad = _import_files(tmp_path)
    _run_import(sweep, live_server, bad)
    shot(page, "xss-import-refused")
    upload_id, batch_id = _run_import(sweep, live_server, good)
    assert batch_id is not None, "the file of payloads imports"

    from kehu.dataio.quality import dedup

    pairs = {"customers": [p.pk for p in dedup.customer_pairs(users["admin"])][:3],
             "contacts": [p.pk for p in dedup.contact_pairs(users["admin"])][:3]}
    assert pairs["customers"] and pairs["contacts"]
    for url in _urls(victims, pairs, upload_id, batch_id):
        sweep.visit(url)
        if url.endswith("?tab=value"):
            shot(page, "xss-card-value-tab")
        elif url.endswith("?kind=customers"):
            shot(page, "xss-duplicates")
    opened = set(sweep.opened)
    for must in ("/", "/audit/", "/value/", "/data/quality/", "/data/duplicates/?kind=customers",
                 f"/customers/{victims[0].pk}/?tab=value"):
        assert must in opened, must
    # The value dashboard, drawn at once, with every chart's points hovered.
    page.emulate_media(reduced_motion="reduce")
    page.goto(f"{live_server.url}/value/")
    page.wait_for_selector("[data-chart=matrix] svg")
    sweep.check("the value dashboard")
    assert _hover_charts(sweep, victims) == len(victims)
    # The audit log last: it now records every page above.
    sweep.visit("/audit/")
    shot(page, "xss-audit", full_page=False)
    assert len(opened) > 40
