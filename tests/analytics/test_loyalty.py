"""States, scores and loyalty that agree with each other, on a realistic firm: the 2,357
CDNOW customers (Fader & Hardie's sample of a CD shop, 1997-98) as customers of two sales
users, refreshed twice; the lock on a state set by hand; the value API's contract."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from kehu.analytics.models import CustomerValue, LoyaltyStatement, Referral, ValueSettings
from kehu.analytics.refresh import refresh_values
from kehu.analytics.services import record_loyalty_statement
from kehu.audit.models import AuditEvent
from kehu.core.errors import ServiceError
from kehu.customers.models import Customer, LifecycleState, LifecycleTransition, Transaction
from kehu.customers.services import set_lifecycle_state, unlock_lifecycle_state
from tests.value.conftest import read_cdnow

FIRST = dt.date(1998, 3, 31)
AS_OF = dt.date(1998, 6, 30)


@pytest.fixture
def cdnow_firm(users):
    """The CDNOW customers, sales1's and sales2's in turn, each CD order a transaction at a
    60% cost of goods; a few referrals among them."""
    ids, dates, amounts = read_cdnow()
    owners = [users["sales1"], users["sales2"]]
    distinct = sorted(set(ids.tolist()), key=int)
    made = Customer.objects.bulk_create([
        Customer(name=f"CD {cid}", owner=owners[i % 2], team_id=owners[i % 2].team_id,
                 lifecycle_state=LifecycleState.FIRST_PURCHASE)
        for i, cid in enumerate(distinct)])
    by_id = {cid: c for cid, c in zip(distinct, made, strict=True)}
    Transaction.objects.bulk_create([
        Transaction(customer=by_id[c], date=d.astype(object), amount=Decimal(f"{a:.2f}"),
                    cost=Decimal(f"{a * 0.6:.2f}"))
        for c, d, a in zip(ids.tolist(), dates, amounts, strict=True) if a > 0])
    for referrer, referred in ((made[0], made[1]), (made[0], made[2]), (made[3], made[4])):
        Referral.objects.create(referrer=referrer, referred=referred,
                                referred_on=dt.date(1997, 6, 1))
    return made


def _refreshed(users, *days: dt.date):
    for day in days:
        run = refresh_values(users["admin"], as_of=day)
    return run


def test_states_and_scores_never_contradict_on_a_realistic_firm(cdnow_firm, users):
    _refreshed(users, FIRST, AS_OF)
    settings = ValueSettings.current()
    scored = CustomerValue.objects.select_related("customer")
    lost = scored.filter(customer__lifecycle_state=LifecycleState.CHURNED)
    # CDNOW customers who stayed away for long are lost by mid-1998 ...
    assert lost.count() > 100
    # ... and their P(alive) says so: none is lost with a P(alive) above the threshold, and
    # none is "alive for ever" (BG/NBD's one-time buyers).
    assert not lost.filter(p_alive__gte=settings.churn_p_alive).exists()
    assert not lost.filter(p_alive__isnull=True).exists()
    # At risk means slipping and not yet lost.
    risky = scored.filter(at_risk=True)
    assert risky.exists()
    assert not risky.filter(customer__lifecycle_state=LifecycleState.CHURNED).exists()
    # Loyal is a high loyalty index, never size: no loyal customer is in the "large and
    # disloyal" or "small and disloyal" quadrant, and small loyal customers exist.
    loyal = scored.filter(customer__lifecycle_state=LifecycleState.LOYAL)
    assert loyal.exists()
    assert min(v.loyalty_index for v in loyal) >= settings.loyal_min_index
    assert not loyal.exclude(quadrant__in=["protect", "nurture"]).exists()
    assert loyal.filter(quadrant="nurture").exists()
    # The index is there for every buyer, with its parts.
    buyers = scored.filter(purchase_days__gt=0)
    assert not buyers.filter(loyalty_index__isnull=True).exists()
    assert all(0 <= v.loyalty_index <= 100 for v in buyers)
    # The referrer of two has their referrals part.
    assert CustomerValue.objects.get(customer=cdnow_firm[0]).loyalty_referrals == 75


def test_what_a_customer_said_moves_their_attitude_and_index(cdnow_firm, users):
    customer = cdnow_firm[10]
    _refreshed(users, AS_OF)
    before = CustomerValue.objects.get(customer=customer)
    assert before.loyalty_attitude is None and before.loyalty_wallet is None
    record_loyalty_statement(users["sales1"], customer, stated_on=AS_OF, buy_again=2,
                             recommend=1, wallet_share=10)
    record_loyalty_statement(users["sales1"], customer, stated_on=AS_OF, buy_again=10,
                             recommend=9, wallet_share=90, note="Happy with delivery")
    _refreshed(users, AS_OF)
    after = CustomerValue.objects.get(customer=customer)
    assert after.loyalty_attitude == 95  # the latest statement counts
    assert after.loyalty_wallet == 90
    assert after.loyalty_index > before.loyalty_index
    assert LoyaltyStatement.objects.filter(customer=customer).count() == 2  # history kept
    assert AuditEvent.objects.filter(action="loyalty.statement", customer_id=customer.pk,
                                     username="sales1").count() == 2


def test_a_statement_needs_a_figure_in_range_and_the_right_to_change_the_card(cdnow_firm,
                                                                            users):
    mine, theirs = cdnow_firm[0], cdnow_firm[1]  # sales1's, sales2's
    with pytest.raises(ServiceError, match="at least one"):
        record_loyalty_statement(users["sales1"], mine, stated_on=AS_OF)
    with pytest.raises(ServiceError, match="0 to 10"):
        record_loyalty_statement(users["sales1"], mine, stated_on=AS_OF, buy_again=11)
    with pytest.raises(ServiceError):
        record_loyalty_statement(users["sales1"], theirs, stated_on=AS_OF, buy_again=5)
    assert not LoyaltyStatement.objects.exists()


def test_a_locked_state_survives_refreshes_and_the_history_says_why(cdnow_firm, users):
    _refreshed(users, AS_OF)
    lost = Customer.objects.filter(lifecycle_state=LifecycleState.CHURNED,
                                   owner=users["sales1"]).first()
    set_lifecycle_state(users["sales1"], lost, LifecycleState.REPEAT_PURCHASE,
                        reason="Signed a framework contract",
                        lock_reason="Framework contract from July; orders start in autumn")
    _refreshed(users, AS_OF)
    lost.refresh_from_db()
    assert lost.lifecycle_state == LifecycleState.REPEAT_PURCHASE
    note = LifecycleTransition.objects.filter(customer=lost).order_by("-at", "-id").first()
    assert note.from_state == note.to_state == LifecycleState.REPEAT_PURCHASE
    assert note.source == "derived"
    assert "locked by hand (Framework contract from July" in note.reason
    assert "Behaviour says Churned" in note.reason
    # The same note is not repeated by every refresh.
    notes = LifecycleTransition.objects.filter(customer=lost).count()
    _refreshed(users, AS_OF)
    assert LifecycleTransition.objects.filter(customer=lost).count() == notes
    # Unlocked (audited), the next refresh derives the state from behaviour again.
    unlock_lifecycle_state(users["sales1"], lost)
    assert AuditEvent.objects.filter(action="customer.state_unlock",
                                     customer_id=lost.pk).exists()
    assert AuditEvent.objects.filter(action="customer.state_lock",
                                     customer_id=lost.pk).exists()
    _refreshed(users, AS_OF)
    lost.refresh_from_db()
    assert lost.lifecycle_state == LifecycleState.CHURNED


def test_a_lock_ends_on_its_day_and_needs_a_reason(cdnow_firm, users):
    customer = cdnow_firm[0]
    with pytest.raises(ServiceError, match="needs a reason"):
        set_lifecycle_state(users["sales1"], customer, LifecycleState.LOYAL,
                            lock_until=dt.date.today() + dt.timedelta(days=5))
    with pytest.raises(ServiceError, match="today or later"):
        set_lifecycle_state(users["sales1"], customer, LifecycleState.LOYAL,
                            lock_reason="x", lock_until=dt.date(2020, 1, 1))
    with pytest.raises(ServiceError, match="not locked"):
        unlock_lifecycle_state(users["sales1"], customer)


def test_the_card_shows_the_lock_and_unlocks_it(cdnow_firm, users):
    customer = cdnow_firm[0]
    client = Client()
    client.force_login(users["sales1"])
    response = client.post(reverse("customers:state", args=[customer.pk]), {
        "state": "loyal", "reason": "Key account", "lock_reason": "Board decision",
        "lock_until": "2099-12-31"})
    assert response.status_code == 302
    body = client.get(reverse("customers:card", args=[customer.pk])).content.decode()
    assert 'id="state-lock"' in body and "Board decision" in body and "2099-12-31" in body
    # A date without a reason is refused, with the reason why.
    response = client.post(reverse("customers:state", args=[customer.pk]), {
        "state": "loyal", "lock_until": "2099-12-31"}, follow=True)
    assert "a lock needs a reason" in response.content.decode()
    client.post(reverse("customers:state_unlock", args=[customer.pk]))
    body = client.get(reverse("customers:card", args=[customer.pk])).content.decode()
    assert 'id="state-lock"' not in body


ITEM_KEYS = {"customer", "lifecycle_state", "p_alive", "clv", "clv_12m", "loyalty_index",
             "segment", "quadrant", "at_risk", "state_locked"}


def test_the_value_api_lists_what_the_user_may_see_with_an_exact_count(cdnow_firm, users,
                                                                       api):
    _refreshed(users, AS_OF)
    set_lifecycle_state(users["sales1"], cdnow_firm[0], LifecycleState.LOYAL,
                        lock_reason="Key account")
    everyone = CustomerValue.objects.count()
    answer = api("admin").get("/value/customers", limit=5)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert set(body) == {"count", "items"} and body["count"] == everyone == 2357
    assert len(body["items"]) == 5 and all(set(i) == ITEM_KEYS for i in body["items"])
    # A salesperson sees their own customers' figures, and only theirs.
    mine = set(Customer.objects.filter(owner=users["sales1"]).values_list("pk", flat=True))
    seen, offset = [], 0
    while True:
        page = api("sales1").get("/value/customers", limit=500, offset=offset).json()
        seen += page["items"]
        offset += 500
        if offset >= page["count"]:
            break
    assert {i["customer"] for i in seen} == mine and len(seen) == len(mine)
    first = next(i for i in seen if i["customer"] == cdnow_firm[0].pk)
    assert first["state_locked"] is True and first["lifecycle_state"] == "loyal"
    value = CustomerValue.objects.get(customer=cdnow_firm[0])
    assert first["p_alive"] == value.p_alive and first["loyalty_index"] == value.loyalty_index
    assert first["clv"] == float(value.clv)
    # Filters, counted exactly.
    lost = api("sales1").get("/value/customers", state="churned", limit=1).json()
    assert lost["count"] == Customer.objects.filter(
        owner=users["sales1"], lifecycle_state="churned").count()
    invest = api("admin").get("/value/customers", segment="invest", limit=1).json()
    assert invest["count"] == CustomerValue.objects.filter(segment="invest").count()
    # Each read is one audit row naming the customers shown.
    event = AuditEvent.objects.filter(action="customer.list", username="admin").latest("id")
    assert event.detail["list"] == "value.customers"
    # Bad input is a clear 422, never a 500.
    assert api("admin").get("/value/customers", state="gone").status_code == 422
    assert api("admin").get("/value/customers", limit=0).status_code == 422
    assert api("admin").get("/value/customers", color="red").status_code == 422


def test_the_api_locks_and_unlocks_a_state(cdnow_firm, users, api):
    pk = cdnow_firm[0].pk
    answer = api("sales1").post(f"/customers/{pk}/lifecycle", {
        "state": "loyal", "reason": "Key account", "lock_reason": "Board decision"})
    assert answer.status_code == 200, answer.content
    assert answer.json()["state_locked"] is True
    assert api("sales1").get(f"/customers/{pk}").json()["state_locked"] is True
    answer = api("sales1").delete(f"/customers/{pk}/lifecycle/lock")
    assert answer.status_code == 200 and answer.json()["state_locked"] is False
    assert api("sales1").delete(f"/customers/{pk}/lifecycle/lock").status_code == 400
    assert api("sales2").delete(f"/customers/{pk}/lifecycle/lock").status_code == 404


@pytest.mark.parametrize("sort", ["clv", "p_alive", "loyalty"])
def test_the_list_sorts_by_value_figures_a_page_at_a_time(cdnow_firm, users, api, sort):
    _refreshed(users, AS_OF)
    # Customers without figures (never bought) sort last from the highest down.
    for i in range(3):
        Customer.objects.create(name=f"Prospect {i}", owner=users["sales1"],
                                team_id=users["sales1"].team_id)
    field = {"clv": "clv", "p_alive": "p_alive", "loyalty": "loyalty_index"}[sort]
    figures = dict(CustomerValue.objects.filter(customer__owner=users["sales1"])
                   .values_list("customer_id", field))
    mine = Customer.objects.filter(owner=users["sales1"]).values_list("pk", flat=True)
    want = sorted(mine, key=lambda pk: (-float(figures[pk]) if figures.get(pk) is not None
                                        else 1.0, -pk))
    got, cursor = [], ""
    while True:
        page = api("sales1").get("/customers", sort=sort, desc="true", limit=200,
                                 **({"cursor": cursor} if cursor else {})).json()
        got += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert got == want
    # The web list sorts the same way and shows the figure's column.
    client = Client()
    client.force_login(users["sales1"])
    body = client.get(reverse("customers:list"), {"sort": sort, "dir": "desc"})
    assert body.status_code == 200
    names = list(Customer.objects.filter(pk__in=want[:3]).values_list("pk", "name"))
    text = body.content.decode()
    positions = [text.index(dict(names)[pk]) for pk in want[:3]]
    assert positions == sorted(positions)


def test_a_salesperson_sees_value_and_loyalty_on_their_cards(cdnow_firm, users):
    _refreshed(users, AS_OF)
    client = Client()
    client.force_login(users["sales1"])
    mine = cdnow_firm[0]
    body = client.get(reverse("customers:card", args=[mine.pk]), {"tab": "value"})
    text = body.content.decode()
    assert "Loyalty index" in text and "Repeat rate" in text and "Referrals made" in text
    assert 'id="loyalty-form"' in text
    response = client.post(reverse("analytics:loyalty_statement", args=[mine.pk]), {
        "stated_on": AS_OF.isoformat(), "buy_again": "12"}, follow=True)
    assert "0 and 10" in response.content.decode() or "less than or equal to 10" in \
        response.content.decode()
    assert not LoyaltyStatement.objects.exists()
    client.post(reverse("analytics:loyalty_statement", args=[mine.pk]), {
        "stated_on": AS_OF.isoformat(), "buy_again": "9", "recommend": "8"})
    assert LoyaltyStatement.objects.get().buy_again == 9
    # Another team's customer: no form, and no statement.
    theirs = cdnow_firm[1]
    assert client.post(reverse("analytics:loyalty_statement",
                               args=[theirs.pk])).status_code == 404


def test_the_dashboard_grid_moves_intention_to_purchase(cdnow_firm, users):
    _refreshed(users, AS_OF)
    values = {v.customer_id: v for v in CustomerValue.objects.all()}
    east = cdnow_firm[::2]  # sales1's, in manager1's team
    strong = max(east, key=lambda c: values[c.pk].loyalty_behaviour)
    weak = next(c for c in east if values[c.pk].loyalty_behaviour < 20)
    for customer, said in ((weak, 10), (strong, 1)):
        record_loyalty_statement(users["admin"], customer, stated_on=AS_OF, buy_again=said,
                                 recommend=said)
    _refreshed(users, AS_OF)
    client = Client()
    client.force_login(users["manager1"])
    text = client.get(reverse("analytics:dashboard")).content.decode()
    grid = text[text.index('id="intention-grid"'):]
    convert = grid[grid.index("grid-convert"):grid.index("grid-loyal")]
    hidden = grid[grid.index("grid-hidden_risk"):grid.index("grid-detached")]
    assert weak.name in convert and strong.name in hidden
    csv = client.get(reverse("analytics:table_csv", args=["intention"]))
    assert weak.name in csv.content.decode("utf-8-sig")
