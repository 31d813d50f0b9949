"""`kehu demo load`: the demo firm a new user meets first."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import models, transaction
from django.utils import timezone

from kehu.accounts.models import User
from kehu.analytics.models import CustomerValue, LoyaltyStatement, Referral, ValueSettings
from kehu.analytics.refresh import refresh_values
from kehu.analytics.selectors import intention_grid
from kehu.core.roles import Role
from kehu.customers.models import Contact, Customer, StateLock, Transaction, TransactionLine
from kehu.demo import loader
from kehu.sales.models import Activity
from kehu.tasks.models import Task

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _one_day():
    """The demo is dated from the day it is loaded; a load that runs past midnight (in the
    firm's time zone) would leave the checks a day ahead of it, so the day stays still."""
    day, real = timezone.localdate(), timezone.localdate

    def localdate(value=None, timezone=None):
        return day if value is None else real(value, timezone)

    with mock.patch.object(timezone, "localdate", localdate):
        yield


# The whole firm once, on SQLite where `make demo` loads it: the loader's writes on
# PostgreSQL are checked by the sampled firm below, at a tenth of the time.
@pytest.mark.one_database
def test_the_demo_firm_is_the_cdnow_history_with_its_users_and_loads_once():
    call_command("demo", "load", "--language", "zh-hans")

    cdnow = Customer.objects.filter(external_id__startswith="CD")
    assert cdnow.count() == 23_570
    assert Transaction.objects.filter(customer__external_id__startswith="CD").count() == 69_659
    # One line per order, but for the orders of the two key accounts' plans (kehu.demo.plans).
    planned = {"customer__account_plan__isnull": False}
    assert TransactionLine.objects.exclude(**{f"transaction__{k}": v for k, v in
                                              planned.items()}).count() == \
        Transaction.objects.exclude(**planned).count()
    # The real amounts, but for cents where an order's unit price does not divide evenly.
    total = sum(sum(p[2] for p in rows) for rows in loader.read_cdnow().values())
    stored = sum(Transaction.objects.filter(customer__external_id__startswith="CD")
                 .values_list("amount", flat=True), Decimal(0))
    assert abs(stored - total) < Decimal("0.005") * 69_659
    # The 18 months of history end yesterday.
    last = Transaction.objects.order_by("-date").first().date
    first = Transaction.objects.order_by("date").first().date
    assert last == timezone.localdate() - dt.timedelta(days=1)
    assert (last - first).days == (dt.date(1998, 6, 30) - dt.date(1997, 1, 1)).days

    for username, role, *_rest in loader.USERS:
        user = User.objects.get(username=username)
        assert user.check_password("kehu-demo") and user.role == role
    sales1, sales2 = User.objects.get(username="sales1"), User.objects.get(username="sales2")
    assert sales1.team != sales2.team
    own1 = set(Customer.objects.filter(owner=sales1).values_list("pk", flat=True))
    own2 = set(Customer.objects.filter(owner=sales2).values_list("pk", flat=True))
    assert own1 and own2 and not own1 & own2
    assert User.objects.get(username="manager1").role == Role.MANAGER
    # A customer file of East is on loan to sales2; sales1 waits for an answer from North.
    from kehu.loans import selectors as loans

    assert loans.card_loans(sales2, loans.loans(sales2, "borrowed").get().customer)["my_loan"]
    assert loans.to_decide(User.objects.get(username="manager2")).count() == 1

    # Every demo user has work on their workbench: overdue, due today, visits this week.
    from kehu.workbench import selectors as workbench

    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    for username, *_rest in loader.USERS:
        user = User.objects.get(username=username)
        due = workbench.due_counts(user, today)
        assert due.overdue and due.today, username
        assert workbench.my_tasks(user).count() >= 3, username
        if user.role in (Role.SALES, Role.MANAGER):
            visits = workbench.week_visits(user, monday)
            assert {v.task is not None for v in visits} == {True, False}, username

    # Done and dismissed tasks with their notes show on the workbench too.
    for username in ("sales1", "sales2", "manager1"):
        closed = Task.objects.filter(assignee__username=username).exclude(status="open")
        assert {t.status for t in closed} == {"done", "dismissed"}, username
        assert all(t.note and t.closed_at for t in closed), username

    _the_chinese_demo_shows_every_feature_with_data()

    # Every card has its first history entry, owner period and lifecycle transition.
    card = cdnow.get(external_id="CD00004")
    assert card.history.count() == 1
    assert card.owner_assignments.count() == 1
    assert card.lifecycle_transitions.count() == 1

    before = (Customer.objects.count(), Transaction.objects.count())
    sales1.set_password("changed")
    sales1.save()
    call_command("demo", "load")
    assert (Customer.objects.count(), Transaction.objects.count()) == before
    assert User.objects.get(username="sales1").check_password("kehu-demo")


def _has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _the_chinese_demo_shows_every_feature_with_data():
    today = timezone.localdate()
    customers = Customer.objects.all()
    # Chinese names for customers, legal representatives and contacts, in Chinese cities.
    names = list(customers.values_list("name", flat=True))
    assert sum(map(_has_han, names)) > 0.95 * len(names)
    assert len(set(names)) > 2_000  # plausibly varied, not a handful of names repeated
    assert all(_has_han(c) for c in customers.values_list("city", flat=True).distinct())
    assert all(map(_has_han, Contact.objects.values_list("name", flat=True)[:2000]))
    assert customers.filter(name__endswith="有限公司").exists()

    # Referrals: a realistic share, each after the referrer's first purchase, and a handful
    # of strong referrers.
    buyers = customers.filter(trading_since__isnull=False).count()
    referrals = list(Referral.objects.select_related("referrer", "referred"))
    assert 0.04 * buyers < len(referrals) < 0.12 * buyers
    assert all(r.referrer.trading_since < r.referred_on for r in referrals)
    made: dict[int, int] = {}
    for r in referrals:
        made[r.referrer_id] = made.get(r.referrer_id, 0) + 1
    assert sum(1 for n in made.values() if n >= 10) >= 3

    # Customers won in the last two months, some still at their first purchase.
    recent = customers.filter(trading_since__gte=today - dt.timedelta(days=60))
    assert recent.filter(lifecycle_state="first").count() >= 100
    # Leads without purchases, and states locked by hand with a reason.
    assert customers.filter(lifecycle_state__in=["potential", "target"],
                            trading_since__isnull=True).count() >= 300
    locks = StateLock.objects.filter(unlocked_at__isnull=True)
    assert locks.count() >= 4 and all(lock.reason for lock in locks)
    assert LoyaltyStatement.objects.count() > 500

    # Calls, e-mails, meetings, visits and service notes by several people, over time.
    kinds = set(Activity.objects.values_list("kind", flat=True).distinct())
    assert {"call", "email", "meeting", "visit", "note"} <= kinds
    assert Activity.objects.values("author").distinct().count() >= 5
    assert all(map(_has_han, Activity.objects.values_list("subject", flat=True)
                   .distinct()))

    # The value refresh: tasks for every owner, and states and scores that agree.
    refresh_values(None)
    owners = set(customers.values_list("owner__username", flat=True).distinct())
    for username in owners:
        assert Task.objects.filter(assignee__username=username, status="open") \
            .exclude(origin="").exists(), username
    for username in ("sales1", "sales2"):  # the newest customers' welcome calls
        assert Task.objects.filter(assignee__username=username, status="open",
                                   origin="playbook:first").exists(), username
    settings = ValueSettings.current()
    unlocked = CustomerValue.objects.exclude(  # a locked state is the user's word
        customer__in=StateLock.objects.filter(unlocked_at__isnull=True).values("customer"))
    lost = unlocked.filter(customer__lifecycle_state="churned")
    assert not lost.filter(p_alive__gt=float(settings.churn_p_alive)).exists()
    assert not lost.filter(at_risk=True).exists()
    loyal = unlocked.filter(customer__lifecycle_state="loyal")
    assert loyal.exists()
    assert not loyal.filter(loyalty_index__lt=settings.loyal_min_index).exists()
    assert CustomerValue.objects.filter(quadrant="nurture").exists()  # small but loyal
    assert CustomerValue.objects.filter(influence_value__gt=0).exists()
    assert CustomerValue.objects.filter(loyalty_referrals__gt=0).exists()
    investment = set(CustomerValue.objects.values_list("relationship_investment", flat=True)
                     .distinct()[:50])
    assert len(investment) > 5
    admin = User.objects.get(username="admin")
    assert all(cell.count for cell in intention_grid(admin)), "every cell of the grid"
    assert CustomerValue.objects.filter(customer__lifecycle_state="first",
                                        customer__trading_since__gte=today
                                        - dt.timedelta(days=60)).exists()


def _fingerprint() -> list:
    return [
        list(Customer.objects.order_by("external_id", "name").values_list(
            "external_id", "name", "city", "owner__username", "lifecycle_state")),
        list(Referral.objects.order_by("referred__external_id", "referred__name",
                                       "referrer__external_id").values_list(
            "referrer__external_id", "referred__external_id", "referred__name",
            "referred_on")),
        list(Activity.objects.order_by("customer__external_id", "customer__name",
                                       "occurred_at", "subject", "kind")
             .values_list("customer__external_id", "kind", "subject", "occurred_at")),
        # Every column is in the ordering: tasks of leads share a title and a date, and
        # PostgreSQL orders ties differently from one run to the next.
        list(Task.objects.order_by("customer__external_id", "lead__name", "title", "due_on",
                                   "assignee__username", "status").values_list(
            "customer__external_id", "lead__name", "assignee__username", "title", "due_on",
            "status")),
    ]


class _Again(Exception):
    pass


def _as_fresh_database() -> None:
    """Rewind PostgreSQL's sequences, which a rollback leaves where they were: ids follow
    from how many rows earlier tests made, and a campaign's hold-out group follows from its
    members' ids (kehu.marketing.campaigns.holdout), so the same seed gives the same firm
    in a fresh database, which is where the demo is loaded."""
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
            cursor.execute(sql)


def test_the_english_demo_names_customers_in_english_and_the_same_seed_gives_the_same_firm():
    from tests.marketing.conftest import ensure_coupon_tiers

    ensure_coupon_tiers()
    _as_fresh_database()
    with pytest.raises(_Again), transaction.atomic():
        call_command("demo", "load", "--language", "en", "--sample", "800")
        first = _fingerprint()
        raise _Again
    assert not Customer.objects.exists()
    _as_fresh_database()
    result = loader.load(language="en", sample=800)
    assert result.created and result.referrals > 0
    assert _fingerprint() == first

    customers = Customer.objects.all()
    assert customers.filter(external_id__startswith="CD").count() == 800
    assert not any(map(_has_han, customers.values_list("name", flat=True)))
    assert not any(map(_has_han, customers.values_list("city", flat=True)))
    assert not any(map(_has_han, customers.values_list("address", flat=True)))
    assert not any(map(_has_han, Contact.objects.values_list("name", flat=True)))
    assert not any(map(_has_han, Activity.objects.values_list("subject", flat=True)))
    assert not any(map(_has_han, Task.objects.values_list("title", flat=True)))
    assert customers.filter(name__contains="Co., Ltd.").exists()
    assert customers.filter(lifecycle_state="first",
                            trading_since__gte=timezone.localdate()
                            - dt.timedelta(days=60)).exists()
    _the_demo_has_two_key_account_plans()
    _the_demo_owners_changed_more_often_for_those_who_left()
    _the_demo_has_tickets_in_every_state_for_service1()
    _the_demo_has_offer_lists_worth_reading_and_coupons_used()
    _the_demo_has_articles_in_both_languages_that_search_finds()


def _the_demo_owners_changed_more_often_for_those_who_left():
    """kehu.demo.owners: an owner history for the service–profit chain, with one open
    period per customer (the owner's) and more changes for customers who stopped buying."""
    from django.db.models import Count, Q

    from kehu.customers.models import OwnerAssignment

    assert not Customer.objects.annotate(
        open=Count("owner_assignments", filter=Q(owner_assignments__ended_at__isnull=True))
    ).exclude(open=1).exists()
    assert not OwnerAssignment.objects.filter(ended_at__isnull=True).exclude(
        owner=models.F("customer__owner")).exists()
    periods = Counter(OwnerAssignment.objects.values_list("customer_id", flat=True))
    # The states the loader gave (the value refresh has re-derived some since).
    from kehu.customers.models import LifecycleTransition

    states = dict(LifecycleTransition.objects.filter(from_state="")
                  .values_list("customer_id", "to_state"))
    changed = {kind: [periods[pk] > 1 for pk, s in states.items() if (s == "churned") == kind]
               for kind in (True, False)}
    share = {kind: sum(v) / len(v) for kind, v in changed.items()}
    assert share[True] > 1.5 * share[False] > 0, share
    assert max(periods.values()) == 3
    _the_demo_has_survey_answers()


def _the_demo_has_survey_answers():
    """A survey for each occasion with its questions in both languages, a year of answers,
    loyal customers more satisfied than churned ones, low scores with follow-up tasks, and
    invitations waiting for an answer."""
    from kehu.accounts.models import User
    from kehu.service.surveys import selectors
    from kehu.service.surveys.models import Survey, SurveyInvitation, SurveyResponse
    from kehu.service.surveys.services import LOW_SCORE_ORIGIN

    admin = User.objects.get(username="admin")
    assert set(Survey.objects.values_list("purpose", flat=True)) == {
        "after_ticket", "key_customers", "by_hand"}
    assert all(_has_han(t) for t in Survey.objects.values_list("questions__text_zh", flat=True))
    assert SurveyResponse.objects.count() >= 100
    assert SurveyInvitation.objects.filter(answered_at__isnull=True).exists()
    low = SurveyResponse.objects.filter(low=True).values_list("customer_id", flat=True)
    assert low and set(low) <= set(Task.objects.filter(origin=LOW_SCORE_ORIGIN)
                                   .values_list("customer_id", flat=True))
    # The owners called back on the older ones; only the last week's still wait.
    follow_ups = Task.objects.filter(origin=LOW_SCORE_ORIGIN)
    week_ago = timezone.localdate() - dt.timedelta(days=7)
    assert not follow_ups.filter(status="open", due_on__lt=week_ago).exists()
    assert all(t.note and t.closed_at for t in follow_ups.filter(status="done"))
    assert follow_ups.filter(status="done").exists()
    from django.db.models import Avg

    loyal, churned = (SurveyResponse.objects.filter(customer__lifecycle_state=state)
                      .aggregate(m=Avg("csat"))["m"] for state in ("loyal", "churned"))
    assert loyal > churned
    months = selectors.by_month(admin, 12)
    assert sum(1 for m in months if m.scores.responses) >= 10
    assert len(selectors.by_owner(admin)) >= 2


def _the_demo_has_articles_in_both_languages_that_search_finds():
    from kehu.service.knowledge.models import Article
    from kehu.service.knowledge.selectors import ArticleFilters, search_articles

    service1 = User.objects.get(username="service1")
    assert {a.language for a in Article.objects.all()} == {"zh-hans", "en"}
    assert all(a.tags.exists() for a in Article.objects.all())
    found = search_articles(service1, ArticleFilters(q="卡纸"))
    assert [a.title for a in found] == ["门店小票打印机卡纸"]
    found = search_articles(service1, ArticleFilters(q="receipt printer"))
    assert [a.title for a in found] == ["Receipt printer jams after installation"]


def _the_demo_has_two_key_account_plans():
    """Each with a full decision chain, competitors with all six answers, steps some done,
    and purchases that suggest the orientation the plan records."""
    from kehu.sales.plans import selectors
    from kehu.sales.plans.models import SHEET_FIELDS, AccountPlan

    admin = User.objects.get(username="admin")
    plans = list(AccountPlan.objects.order_by("buying_orientation"))
    assert [p.buying_orientation for p in plans] == ["price", "solution"]
    for plan in plans:
        chain = selectors.decision_chain(admin, plan.customer)
        judged = [p for tier in chain for p in tier.people if p.attitude]
        assert all(tier.people for tier in chain[:4]), plan
        assert {p.attitude for p in judged} == {"supports", "neutral", "opposes"}
        assert {p.relationship for p in judged} >= {"none", "acquainted", "good"}
        sheets = list(plan.competitors.all())
        assert len(sheets) == 2 and all(getattr(s, f) for s in sheets for f in SHEET_FIELDS)
        statuses = [s.task.status for s in plan.steps.all()]
        assert statuses.count("done") == 2 and statuses.count("open") == 2
        suggestion = selectors.suggested_orientation(admin, plan.customer)
        assert suggestion.orientation == plan.buying_orientation, suggestion.reason


def test_the_demo_refuses_a_language_it_does_not_speak():
    with pytest.raises(ValueError, match="zh-hans or en"):
        loader.load(language="fr", sample=10)


def _the_demo_has_tickets_in_every_state_for_service1():
    """Every status and every kind, conversations with time spent, the East team's for
    service1 to work, histories in time order (the service clocks read them), and some past
    their service-level targets, escalated."""
    from django.db.models import Q

    from kehu.service.chain.selectors import service_dashboard
    from kehu.service.tickets.models import ACTIVE_STATUSES, Ticket, TicketKind, TicketStatus
    from kehu.service.tickets.selectors import tickets

    assert set(Ticket.objects.values_list("status", flat=True)) == set(TicketStatus.values)
    assert set(Ticket.objects.values_list("kind", flat=True)) == set(TicketKind.values)
    service1 = User.objects.get(username="service1")
    mine = tickets(service1)
    assert mine.count() >= 10 and mine.filter(assignee=service1).exists()
    assert Ticket.objects.filter(minutes_spent__gt=0).exists()
    assert Ticket.objects.filter(first_contact_resolution=True).exists()
    assert Ticket.objects.filter(first_contact_resolution=False).exists()
    for t in Ticket.objects.all():
        at = [c.at for c in t.status_changes.order_by("id")]
        assert at == sorted(at), t.number
        assert t.status_changes.order_by("id").last().to_status == t.status
    assert Ticket.objects.filter(subject="Order arrived two weeks late").exists()
    # The load ends with the service-level sweep: the week-old tickets are past their
    # targets and escalated to a manager, in English.
    breached = Ticket.objects.filter(Q(sla__first_response_state="breached")
                                     | Q(sla__resolution_state="breached"))
    assert breached.filter(status__in=ACTIVE_STATUSES).count() >= 2
    escalations = Task.objects.filter(origin__startswith="sla_breach_", status="open")
    assert escalations.filter(assignee__role=Role.MANAGER).exists()
    assert all(t.title.startswith("Escalated") for t in escalations)
    assert service_dashboard(User.objects.get(username="admin")).breaching >= 2


def _the_demo_has_offer_lists_worth_reading_and_coupons_used():
    """Offer lists built after the firm was scored: products due again by the customers'
    own rhythm, products bought together, coupons by loyalty tier (the more loyal, the
    larger), and some of them used on the orders placed since."""
    from django.db.models import Avg

    from kehu.marketing.offers.models import Coupon, OfferItem, OfferList

    assert OfferList.objects.count() >= 20
    assert OfferItem.objects.filter(kind="due").count() >= 10
    assert OfferItem.objects.filter(kind="suggested").count() >= 10
    coupons = Coupon.objects.all()
    assert coupons.count() >= 10 and all(c.loyalty_index is not None for c in coupons)
    assert coupons.filter(redeemed_transaction__isnull=False).exists()
    by_discount = (coupons.values("discount_percent").annotate(loyalty=Avg("loyalty_index"))
                   .order_by("discount_percent"))
    loyalty = [row["loyalty"] for row in by_discount]
    assert loyalty == sorted(loyalty), by_discount

