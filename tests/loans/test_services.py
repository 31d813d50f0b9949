"""Loans of customer files (利用和借阅) through the services and the one scoping function: a
request reaches the owner only if it matches, approval lends the card read-only until the
end date, the loan ends by itself, refusal and early return, who may decide, and the
audit rows of every step."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kehu.analytics.refresh import refresh_values
from kehu.analytics.selectors import equity_by, latest_refresh, segment_mix, whale_curve
from kehu.audit.models import AuditEvent
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.permissions import CHANGE, CONTRIBUTE, DELETE, EXPORT, VIEW, can
from kehu.customers import selectors as customer_selectors
from kehu.customers.services import record_customer_view, update_customer
from kehu.loans import selectors, services
from kehu.loans.models import Loan, LoanStatus
from kehu.sales import selectors as sales_selectors

pytestmark = pytest.mark.django_db


def ask(user, what, reason="A caller asked about an order", days=7, **kwargs) -> Loan:
    return services.request_loan(user, what, reason, days, **kwargs)


def sees(user, customer) -> bool:
    return customer_selectors.customers(user).filter(pk=customer.pk).exists()


def test_the_whole_flow_lends_read_only_until_the_end_date(users, customers, children):
    borrower, owner, east = users["sales2"], users["sales1"], customers["east"]
    assert not sees(borrower, east)

    loan = ask(borrower, "上海华东贸易有限公司", days=3)
    assert loan.customer == east and loan.status == LoanStatus.REQUESTED
    assert not sees(borrower, east)  # asking is not seeing
    # The owner and the owner's manager see the request; the manager of another team not.
    assert list(selectors.to_decide(owner)) == [loan]
    assert list(selectors.to_decide(users["manager1"])) == [loan]
    assert not selectors.to_decide(users["manager2"]).exists()

    loan = services.approve_loan(users["manager1"], loan, note="For the order query")
    assert loan.status == LoanStatus.APPROVED
    assert loan.ends_at - loan.starts_at == dt.timedelta(days=3)
    # VIEW, through the one scoping function: the list, the card, its contacts, its
    # transactions and its timeline.
    assert sees(borrower, east) and can(borrower, VIEW, east)
    assert customer_selectors.contacts(borrower).filter(customer=east).exists()
    assert customer_selectors.transactions(borrower).filter(customer=east).exists()
    assert sales_selectors.activities(borrower).filter(customer=east).exists()
    # Nothing more.
    for action in (CHANGE, CONTRIBUTE, DELETE, EXPORT):
        assert not can(borrower, action, east), action
    with pytest.raises(NotPermitted):
        update_customer(borrower, east, {"city": "南京"}, expected_version=east.version)
    # The borrower's own customers are untouched, and nobody else gained anything.
    assert sees(borrower, customers["north"]) and not sees(borrower, customers["east_b"])
    assert not sees(users["manager2"], east)

    # Each read under the loan says so in the audit log.
    record_customer_view(borrower, east)
    record_customer_view(owner, east)
    reads = {e.username: e.detail for e in AuditEvent.objects.filter(action="customer.view")}
    assert reads["sales2"] == {"part": "card", "loan": loan.pk}
    assert reads["sales1"] == {"part": "card"}

    # The loan ends by itself at its end date: no job has to run.
    Loan.objects.filter(pk=loan.pk).update(ends_at=timezone.now() - dt.timedelta(seconds=1))
    assert not sees(borrower, east) and not can(borrower, VIEW, east)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.APPROVED and loan.status_at() == LoanStatus.EXPIRED
    # Noticing it writes it down once, and audits it once.
    assert services.close_ended_loans() == 1
    assert services.close_ended_loans() == 0
    loan.refresh_from_db()
    assert (loan.status, loan.ended_at) == (LoanStatus.EXPIRED, loan.ends_at)
    assert AuditEvent.objects.filter(action="loan.expire", object_id=str(loan.pk),
                                     customer_id=east.pk).count() == 1
    with pytest.raises(NotPermitted):
        record_customer_view(borrower, east)


def test_the_end_date_is_compared_with_the_time_given(users, customers):
    loan = services.approve_loan(users["sales1"], ask(users["sales2"], "上海华东贸易有限公司",
                                                      days=7))
    later = loan.starts_at + dt.timedelta(days=7)
    assert loan.status_at(later - dt.timedelta(seconds=1)) == LoanStatus.APPROVED
    assert loan.status_at(later) == LoanStatus.EXPIRED
    assert Loan.objects.active(later - dt.timedelta(seconds=1)).filter(pk=loan.pk).exists()
    assert not Loan.objects.active(later).filter(pk=loan.pk).exists()


def test_a_refusal_keeps_the_customer_out_of_reach(users, customers):
    borrower, east = users["sales2"], customers["east"]
    loan = services.refuse_loan(users["sales1"], ask(borrower, "上海华东贸易有限公司"),
                                note="Please ask me by phone")
    assert (loan.status, loan.decided_by, loan.note) == (
        LoanStatus.REFUSED, users["sales1"], "Please ask me by phone")
    assert not sees(borrower, east)
    assert list(selectors.unseen_answers(borrower)) == [loan]
    # A refused request cannot be approved afterwards.
    with pytest.raises(ServiceError, match="no longer open"):
        services.approve_loan(users["manager1"], loan)
    assert not sees(borrower, east)


def test_a_manager_of_another_team_cannot_decide(users, customers):
    loan = ask(users["sales2"], "上海华东贸易有限公司")
    for outsider in ("manager2", "sales1b", "service1", "analyst1"):
        with pytest.raises(NotPermitted):
            services.approve_loan(users[outsider], loan)
        with pytest.raises(NotPermitted):
            services.refuse_loan(users[outsider], loan)
    # Nor may the borrower lend to themselves.
    with pytest.raises(NotPermitted):
        services.approve_loan(users["sales2"], loan)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.REQUESTED
    # An admin may.
    assert services.approve_loan(users["admin"], loan).status == LoanStatus.APPROVED


def test_there_is_no_existence_oracle(users, customers):
    """A request for a customer out of scope and one for nothing at all look the same to
    the asker: same answer, same status, nothing named; only the first reaches the owner."""
    borrower = users["sales2"]
    real = ask(borrower, "上海华东贸易有限公司")
    ghost = ask(borrower, "上海不存在贸易有限公司")
    assert (real.customer, ghost.customer) == (customers["east"], None)
    for loan in (real, ghost):
        assert loan.status_at() == LoanStatus.REQUESTED
        assert selectors.side_of(borrower, loan) == selectors.BORROWED
        assert not selectors.shows_customer(borrower, loan)
    assert list(selectors.to_decide(users["sales1"])) == [real]
    # Both lapse the same way when nobody answers.
    later = timezone.now() + dt.timedelta(days=15)
    assert real.status_at(later) == ghost.status_at(later) == LoanStatus.LAPSED
    # The audit log (admins only) knows which one matched.
    details = {e.object_id: e.detail for e in AuditEvent.objects.filter(action="loan.request")}
    assert details[str(real.pk)]["matched"] and not details[str(ghost.pk)]["matched"]


def test_an_identifier_that_fits_several_customers_reaches_nobody(users, customers):
    from kehu.customers.services import create_customer

    create_customer(users["admin"], {"name": "上海华东贸易有限公司", "city": "无锡"},
                    owner=users["sales1b"])
    loan = ask(users["sales2"], "上海华东贸易有限公司")
    assert loan.customer is None and not loan.matched
    assert not selectors.to_decide(users["manager1"]).exists()


@pytest.mark.parametrize("what", ["+86 21 5555 0101", "021-5555-0101", "(021) 55550101",
                                  "INFO@HUADONG.EXAMPLE", "ERP-4711",
                                  " 上海华东贸易有限公司 ", "上海华东贸易有限公司"])
def test_a_request_matches_exact_ids_names_phones_and_emails(users, customers, what):
    east = customers["east"]
    east.external_id = "ERP-4711"
    east.save(update_fields=["external_id"])
    assert ask(users["sales2"], what).customer == east


@pytest.mark.parametrize("what", ["上海华东", "5555", "huadong", "info@huadong", "ERP-47"])
def test_a_request_does_not_match_a_part(users, customers, what):
    east = customers["east"]
    east.external_id = "ERP-4711"
    east.save(update_fields=["external_id"])
    assert ask(users["sales2"], what).customer is None


def test_asking_for_a_customer_already_in_reach_names_it_and_stores_nothing(users, customers):
    with pytest.raises(services.AlreadyVisible) as caught:
        ask(users["sales1"], "上海华东贸易有限公司")
    assert caught.value.customers == [customers["east"]]
    assert not Loan.objects.exists()


def test_bad_requests_are_refused_with_the_reason(users, customers):
    borrower = users["sales2"]
    for what, reason, days, message in (
            ("", "x", 7, "The customer you need is required."),
            ("x" * 201, "x", 7, "at most 200 characters"),
            ("上海华东贸易有限公司", "  ", 7, "The reason is required."),
            ("上海华东贸易有限公司", "x", 0, "from 1 to 30 days"),
            ("上海华东贸易有限公司", "x", 31, "from 1 to 30 days"),
            ("上海华东贸易有限公司", "x", "seven", "whole number of days")):
        with pytest.raises(ServiceError, match=message):
            ask(borrower, what, reason, days)
    ask(borrower, "上海华东贸易有限公司")
    with pytest.raises(ServiceError, match="You already asked for"):
        ask(borrower, " 上海华东贸易有限公司")
    for i in range(9):
        ask(borrower, f"ERP-{i}")
    with pytest.raises(ServiceError, match="10 requests waiting"):
        ask(borrower, "ERP-99")
    assert Loan.objects.count() == 10


def test_returning_early_ends_the_loan_for_the_borrower(users, customers):
    borrower, east = users["sales2"], customers["east"]
    loan = services.approve_loan(users["sales1"], ask(borrower, "上海华东贸易有限公司"))
    with pytest.raises(NotPermitted):
        services.return_loan(users["sales1b"], loan)
    loan = services.end_loan(borrower, loan)
    assert (loan.status, loan.ended_by) == (LoanStatus.RETURNED, borrower)
    assert not sees(borrower, east)
    with pytest.raises(ServiceError, match="not running"):
        services.return_loan(borrower, loan)


def test_the_owner_or_manager_may_take_a_loan_back(users, customers):
    loan = services.approve_loan(users["sales1"], ask(users["sales2"], "上海华东贸易有限公司"))
    loan = services.return_loan(users["manager1"], loan)
    assert (loan.status, loan.ended_by) == (LoanStatus.RETURNED, users["manager1"])
    assert not sees(users["sales2"], customers["east"])


def test_a_request_can_be_withdrawn_by_its_asker_only(users, customers):
    loan = ask(users["sales2"], "上海华东贸易有限公司")
    with pytest.raises(NotPermitted):
        services.withdraw_loan_request(users["sales1"], loan)
    loan = services.end_loan(users["sales2"], loan)
    assert loan.status == LoanStatus.WITHDRAWN
    assert not selectors.to_decide(users["sales1"]).exists()


def test_an_unanswered_request_lapses_and_cannot_be_approved_then(users, customers):
    loan = ask(users["sales2"], "上海华东贸易有限公司")
    Loan.objects.filter(pk=loan.pk).update(
        requested_at=timezone.now() - dt.timedelta(days=14, seconds=1))
    assert not selectors.to_decide(users["sales1"]).exists()
    with pytest.raises(ServiceError, match="Lapsed"):
        services.approve_loan(users["sales1"], loan)
    assert services.close_ended_loans() == 1
    loan.refresh_from_db()
    assert loan.status == LoanStatus.LAPSED
    assert AuditEvent.objects.filter(action="loan.lapse", object_id=str(loan.pk)).exists()


def test_the_sensitive_tier_stays_the_borrowers_own(users, customers):
    from kehu.customers.forms import visible_customer_fields

    services.approve_loan(users["sales1"], ask(users["sales2"], "上海华东贸易有限公司"))
    assert "credit_rating" not in visible_customer_fields(users["sales2"])
    # A manager who borrows keeps the tier their role has.
    services.approve_loan(users["sales1"], ask(users["manager2"], "上海华东贸易有限公司"))
    assert sees(users["manager2"], customers["east"])
    assert "credit_rating" in visible_customer_fields(users["manager2"])


def test_a_loan_lends_one_file_not_its_owners_figures(users, customers, children):
    """The value dashboard adds up the user's book: a borrowed customer brings neither its
    owner's equity nor itself into the borrower's dashboard."""
    refresh_values(users["admin"])
    run = latest_refresh()
    manager = users["manager2"]
    before = (equity_by(manager, run, "owner"), segment_mix(manager), whale_curve(manager))
    services.approve_loan(users["sales1"], ask(manager, "上海华东贸易有限公司"))
    assert sees(manager, customers["east"])
    assert (equity_by(manager, run, "owner"), segment_mix(manager),
            whale_curve(manager)) == before
    assert "sales1" not in str(before[0])


def test_every_step_is_audited(users, customers):
    borrower = users["sales2"]
    a = ask(borrower, "上海华东贸易有限公司", via="api", ip="203.0.113.9")
    services.approve_loan(users["manager1"], a, days=2)
    services.return_loan(borrower, a)
    b = services.refuse_loan(users["sales1b"], ask(borrower, "Hangzhou Silk Co., Ltd."))
    c = ask(borrower, "ERP-0")
    services.withdraw_loan_request(borrower, c)
    services.export_register(users["manager1"])
    events = list(AuditEvent.objects.filter(action__startswith="loan.").order_by("id")
                  .values_list("action", "username", "object_id", "customer_id"))
    east, east_b = customers["east"].pk, customers["east_b"].pk
    assert events == [
        ("loan.request", "sales2", str(a.pk), east),
        ("loan.approve", "manager1", str(a.pk), east),
        ("loan.return", "sales2", str(a.pk), east),
        ("loan.request", "sales2", str(b.pk), east_b),
        ("loan.refuse", "sales1b", str(b.pk), east_b),
        ("loan.request", "sales2", str(c.pk), None),
        ("loan.withdraw", "sales2", str(c.pk), None),
    ]
    first = AuditEvent.objects.filter(action="loan.request").order_by("id").first()
    assert (first.via, first.ip) == ("api", "203.0.113.9")
    approve = AuditEvent.objects.get(action="loan.approve")
    assert approve.detail["borrower"] == "sales2" and approve.detail["days"] == 2
    export = AuditEvent.objects.get(action="export.loans")
    assert (export.username, export.detail["rows"]) == ("manager1", 2)


def test_audit_labels_exist_in_both_languages():
    from django.utils import translation

    from kehu.audit.labels import ACTIONS, action_label

    codes = [c for c in ACTIONS if c.startswith("loan.")] + ["export.loans"]
    assert len(codes) == 8
    with translation.override("zh-hans"):
        chinese = [action_label(c) for c in codes]
    english = [action_label(c) for c in codes]
    assert all(zh != en for zh, en in zip(chinese, english, strict=True)), chinese
    assert all("借阅" in zh for zh in chinese), chinese


def test_the_register_is_scoped_to_the_readers_charge(users, customers):
    east = ask(users["sales2"], "上海华东贸易有限公司")
    north = ask(users["sales1"], "北京华北机械厂")
    ghost = ask(users["sales1"], "No such customer")
    assert set(selectors.register(users["manager1"])) == {east}
    assert set(selectors.register(users["manager2"])) == {north}
    assert set(selectors.register(users["admin"])) == {east, north, ghost}
    for role in ("sales1", "sales2", "service1", "analyst1", "marketing1"):
        assert not selectors.register(users[role]).exists(), role
        with pytest.raises(NotPermitted):
            services.export_register(users[role])


def test_the_register_filters_by_status_and_period(users, customers):
    a = services.approve_loan(users["sales1"], ask(users["sales2"], "上海华东贸易有限公司"))
    b = ask(users["sales2"], "Hangzhou Silk Co., Ltd.")
    old = ask(users["sales2"], "ERP-1")
    services.withdraw_loan_request(users["sales2"], old)
    Loan.objects.filter(pk=old.pk).update(
        requested_at=timezone.now() - dt.timedelta(days=60),
        ended_at=timezone.now() - dt.timedelta(days=59))
    admin = users["admin"]
    by_status = {s: set(selectors.register(admin, selectors.RegisterFilters(status=s)))
                 for s in LoanStatus.values}
    assert by_status["approved"] == {a} and by_status["requested"] == {b}
    assert by_status["withdrawn"] == {old} and not by_status["expired"]
    # Past its end, a loan counts as ended before anybody wrote it down.
    Loan.objects.filter(pk=a.pk).update(ends_at=timezone.now() - dt.timedelta(minutes=1))
    assert set(selectors.register(admin, selectors.RegisterFilters(status="expired"))) == {a}
    today = timezone.localdate()
    recent = selectors.RegisterFilters(date_from=today - dt.timedelta(days=7), date_to=today)
    assert set(selectors.register(admin, recent)) == {a, b}
    long_ago = selectors.RegisterFilters(date_from=today - dt.timedelta(days=61),
                                         date_to=today - dt.timedelta(days=58))
    assert set(selectors.register(admin, long_ago)) == {old}


def test_the_register_csv_guards_formulas(users, customers):
    loan = ask(users["sales2"], "上海华东贸易有限公司", reason="=HYPERLINK(\"http://x\")")
    services.approve_loan(users["manager1"], loan, note="+1 week")
    header, rows = services.export_register(users["manager1"])
    row = dict(zip(header, rows[0], strict=True))
    assert row["Reason"] == "'=HYPERLINK(\"http://x\")" and row["Note"] == "'+1 week"
    assert (row["Customer"], row["Borrower"], row["Decided by"], row["Status"]) == (
        "上海华东贸易有限公司", "sales2", "manager1", "On loan")


def test_the_card_says_who_has_it_on_loan(users, customers):
    east = customers["east"]
    loan = services.approve_loan(users["sales1"], ask(users["sales2"], "上海华东贸易有限公司"))
    for role in ("sales1", "manager1", "admin"):
        assert selectors.card_loans(users[role], east)["lent_now"] == [loan], role
    for role in ("sales1b", "service1", "sales2"):
        assert selectors.card_loans(users[role], east)["lent_now"] == [], role
    assert selectors.card_loans(users["sales2"], east)["my_loan"] == loan
