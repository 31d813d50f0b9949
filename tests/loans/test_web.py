"""Loans of customer files in the web UI and the API, as a borrower, an owner, a manager and
an admin see them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.audit.models import AuditEvent
from kehu.loans.models import Loan, LoanStatus
from kehu.loans.services import approve_loan, request_loan

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def card(customer) -> str:
    return reverse("customers:card", args=[customer.pk])


def text(response) -> str:
    return response.content.decode()


def ask(client, what: str, reason: str = "A caller asked about an order", days: int = 7):
    return client.post(reverse("loans:request"),
                       {"asked_for": what, "reason": reason, "days": days})


def test_request_approve_read_only_and_return(users, customers, children):
    east = customers["east"]
    borrower = client_for(users["sales2"])
    assert borrower.get(card(east)).status_code == 404
    page = text(borrower.get(reverse("customers:list"), {"q": "nothing like this"}))
    assert reverse("loans:request") in page  # the way to ask, from an empty list

    response = ask(borrower, "上海华东贸易有限公司", days=2)
    assert response.status_code == 302 and response["Location"] == reverse("loans:mine")
    mine = text(borrower.get(reverse("loans:mine")))
    assert "Your request was sent." in mine and "Requested" in mine
    assert "上海华东贸易有限公司" in mine  # what they typed, nothing more
    assert card(east) not in mine
    loan = Loan.objects.get()

    manager = client_for(users["manager1"])
    page = text(manager.get(reverse("customers:list")))
    assert re.search(r'class="badge count">1<', page)  # the count in the navigation
    decide = text(manager.get(reverse("loans:decide")))
    assert "sales2" in decide and card(east) in decide
    detail = text(manager.get(reverse("loans:detail", args=[loan.pk])))
    assert 'id="decision"' in detail and "Refusing tells them that the customer exists" in detail
    response = manager.post(reverse("loans:approve", args=[loan.pk]),
                            {"days": "", "note": "For the order query"})
    assert response.status_code == 302
    loan.refresh_from_db()
    assert loan.status == LoanStatus.APPROVED
    assert loan.ends_at - loan.starts_at == dt.timedelta(days=2)

    # The borrower is told on their next page, and sees it on their loans page.
    page = text(borrower.get(reverse("customers:list")))
    assert "A request of yours to borrow a customer file has been answered." in page
    assert east.name in page  # the list now holds the lent customer
    mine = text(borrower.get(reverse("loans:mine")))
    assert "On loan" in mine and "For the order query" in mine and card(east) in mine
    assert "has been answered" not in text(borrower.get(reverse("customers:list")))

    # Read-only: the card opens, with the notice and without the buttons that change it.
    response = borrower.get(card(east))
    assert response.status_code == 200
    page = text(response)
    until = timezone.localtime(loan.ends_at).strftime("%Y-%m-%d %H:%M")
    assert f"On loan to you until {until}." in page
    assert reverse("customers:edit", args=[east.pk]) not in page
    assert text(borrower.get(card(east) + "?tab=contacts")).count("Contact of east") == 1
    for url in (reverse("customers:edit", args=[east.pk]),
                reverse("customers:contact_create", args=[east.pk]),
                reverse("customers:transaction_create", args=[east.pk]),
                reverse("customers:delete", args=[east.pk])):
        assert borrower.get(url).status_code == 404, url
    assert borrower.post(reverse("sales:activity_create", args=[east.pk]),
                         {"kind": "note", "subject": "x"}).status_code == 404
    assert borrower.post(reverse("customers:state", args=[east.pk]),
                         {"state": "churned"}).status_code == 404
    export = borrower.get(reverse("dataio:export_download"),
                          {"what": "customers", "format": "csv"})
    assert east.name not in b"".join(export.streaming_content).decode("utf-8-sig")
    east.refresh_from_db()
    assert (east.version, east.lifecycle_state) == (1, "potential")
    read = AuditEvent.objects.filter(action="customer.view", username="sales2").last()
    assert read.detail["loan"] == loan.pk

    # The owner's card says who has it.
    page = text(client_for(users["sales1"]).get(card(east)))
    assert "On loan now to:" in page and "sales2" in page

    # Given back early: out of reach again.
    response = borrower.post(reverse("loans:return", args=[loan.pk]))
    assert response.status_code == 302
    assert borrower.get(card(east)).status_code == 404
    assert Loan.objects.get().status == LoanStatus.RETURNED


def test_the_loan_ends_by_itself_on_the_web(users, customers):
    east = customers["east"]
    loan = approve_loan(users["sales1"], request_loan(users["sales2"], east.name, "Order"))
    borrower = client_for(users["sales2"])
    assert borrower.get(card(east)).status_code == 200
    Loan.objects.filter(pk=loan.pk).update(ends_at=timezone.now() - dt.timedelta(seconds=1))
    assert borrower.get(card(east)).status_code == 404
    assert east.name not in text(borrower.get(reverse("customers:list")))
    mine = text(borrower.get(reverse("loans:mine")))
    assert "Ended" in mine and card(east) not in mine
    assert Loan.objects.get().status == LoanStatus.EXPIRED


def test_a_refusal_is_shown_to_the_borrower(users, customers):
    borrower = client_for(users["sales2"])
    ask(borrower, "上海华东贸易有限公司")
    loan = Loan.objects.get()
    response = client_for(users["sales1"]).post(reverse("loans:refuse", args=[loan.pk]),
                                                {"note": "Ask me by phone"})
    assert response.status_code == 302
    mine = text(borrower.get(reverse("loans:mine")))
    assert "Refused" in mine and "Ask me by phone" in mine
    assert borrower.get(card(customers["east"])).status_code == 404


def _without(page: str, *variable: str) -> str:
    page = re.sub(r"/loans/\d+/", "/loans/N/", page)
    page = re.sub(r"#\d+<", "#N<", page)
    page = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "DATE", page)
    page = re.sub(r"[A-Za-z0-9]{64}", "CSRF", page)
    for v in variable:
        page = page.replace(v, "ASKED")
    return page


def test_no_existence_oracle(users, customers):
    """The same request for a customer that exists out of scope and for one that does not:
    the same answer and the same pages, to the character."""
    real, ghost = "北京华北机械厂", "北京华北机械二厂"
    client = client_for(users["sales1"])
    answers = [ask(client, what) for what in (real, ghost)]
    assert [(a.status_code, a["Location"]) for a in answers] == [
        (302, reverse("loans:mine"))] * 2
    loans = list(Loan.objects.order_by("id"))
    assert [loan.customer for loan in loans] == [customers["north"], None]
    web = client_for(users["sales1"])
    pages = [_without(text(web.get(reverse("loans:detail", args=[loan.pk]))), real, ghost)
             for loan in loans]
    assert pages[0] == pages[1]
    rows = re.findall(r"<tr>.*?</tr>", text(web.get(reverse("loans:mine"))), re.S)
    assert len(rows) == 3 and _without(rows[1], real, ghost) == _without(rows[2], real, ghost)


def test_asking_for_a_customer_in_reach_links_to_it(users, customers):
    response = ask(client_for(users["sales1"]), "上海华东贸易有限公司")
    assert response.status_code == 400
    page = text(response)
    assert "You can already see this customer" in page and card(customers["east"]) in page
    assert not Loan.objects.exists()


def test_the_request_form_says_what_is_wrong(users, customers):
    response = ask(client_for(users["sales2"]), "", reason="", days=99)
    assert response.status_code == 400
    page = text(response)
    for field in ("asked_for", "reason"):
        assert re.search(rf'<ul class="errorlist" id="id_{field}_error"><li>This field is '
                         r"required.</li></ul>", page), field
    assert "Ensure this value is less than or equal to 30." in page
    assert not Loan.objects.exists()


def test_another_teams_manager_gets_404(users, customers):
    loan = request_loan(users["sales2"], "上海华东贸易有限公司", "Order")
    other = client_for(users["manager2"])
    assert other.get(reverse("loans:detail", args=[loan.pk])).status_code == 404
    assert other.post(reverse("loans:approve", args=[loan.pk])).status_code == 404
    assert other.post(reverse("loans:refuse", args=[loan.pk])).status_code == 404
    assert Loan.objects.get().status == LoanStatus.REQUESTED


def test_the_register_page_and_its_csv(users, customers):
    east = approve_loan(users["sales1"], request_loan(users["sales2"], customers["east"].name,
                                                      "Order"))
    request_loan(users["sales1"], customers["north"].name, "Visit")
    manager = client_for(users["manager1"])
    page = text(manager.get(reverse("loans:register")))
    assert customers["east"].name in page and customers["north"].name not in page
    page = text(manager.get(reverse("loans:register"), {"status": "refused"}))
    assert "No loans match." in page
    response = manager.get(reverse("loans:register"),
                           {"date_from": "2024-05-02", "date_to": "2024-05-01"})
    assert response.status_code == 400
    assert "The end date is before the start date." in text(response)
    response = manager.get(reverse("loans:register_csv"), {"status": "approved"})
    assert response["Content-Disposition"].startswith('attachment; filename="kehu-loans-')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Loan", "Customer id", "Customer"]
    assert [r[0] for r in rows[1:]] == [str(east.pk)]
    event = AuditEvent.objects.get(action="export.loans")
    assert event.detail["rows"] == 1 and event.detail["status"] == "approved"
    for role in ("sales1", "sales2", "service1", "analyst1"):
        client = client_for(users[role])
        assert client.get(reverse("loans:register")).status_code == 404, role
        assert client.get(reverse("loans:register_csv")).status_code == 404, role
    assert reverse("loans:register") not in text(client_for(users["sales1"]).get(
        reverse("loans:mine")))


def test_the_pages_speak_chinese(users, customers):
    client = client_for(users["sales2"])
    client.cookies["django_language"] = "zh-hans"
    page = text(client.get(reverse("loans:request")))
    assert "借阅" in page and "申请" in page
    ask(client, "上海华东贸易有限公司")
    assert "借阅" in text(client.get(reverse("loans:mine")))


@pytest.mark.parametrize("cursor", ["garbage", "WyIyMDI0LTAxLTAxIiwgMV0"])
def test_a_forged_register_cursor_gives_the_first_page_and_says_so(users, customers, cursor):
    manager = client_for(users["manager1"])
    response = manager.get(reverse("loans:register"), {"cursor": cursor})
    assert response.status_code == 200
    assert "That page link is no longer valid" in text(response)
