"""Loans of customer files through the REST API: the flow, the answers that must not tell
whether a customer exists, and clear refusals."""

from __future__ import annotations

import pytest

from kehu.audit.models import AuditEvent
from kehu.loans.models import Loan

pytestmark = pytest.mark.django_db


def test_no_existence_oracle(users, customers, api):
    client = api("sales1")
    answers = [client.post("/loans", {"asked_for": what, "reason": "Order query"})
               for what in ("北京华北机械厂", "北京华北机械二厂")]
    assert [a.status_code for a in answers] == [201, 201]
    bodies = [a.json() for a in answers]
    for body in bodies:
        for key in ("id", "asked_for", "requested_at"):
            body.pop(key)
    assert bodies[0] == bodies[1]
    assert bodies[0]["customer"] is None and bodies[0]["status"] == "requested"
    assert [loan.customer for loan in Loan.objects.order_by("id")] == [customers["north"], None]


def test_the_api_flow(users, customers, api):
    east = customers["east"]
    borrower, manager = api("sales2"), api("manager1")
    response = borrower.post("/loans", {"asked_for": "上海华东贸易有限公司", "reason": "Order",
                                        "days": 2})
    assert response.status_code == 201
    loan_id = response.json()["id"]
    assert response.json()["customer"] is None
    lent = manager.get("/loans", side="lent").json()["items"]
    assert [(i["id"], i["customer"], i["side"]) for i in lent] == [(loan_id, east.pk, "lent")]
    assert api("manager2").post(f"/loans/{loan_id}/approve", {}).status_code == 404
    assert borrower.post(f"/loans/{loan_id}/approve", {}).status_code == 403
    response = manager.post(f"/loans/{loan_id}/approve", {"note": "ok"})
    assert response.status_code == 200 and response.json()["status"] == "approved"
    assert borrower.get(f"/customers/{east.pk}").status_code == 200
    assert borrower.patch(f"/customers/{east.pk}", {"city": "南京", "version": 1}
                          ).status_code == 403
    assert borrower.post(f"/customers/{east.pk}/contacts", {"name": "x"}).status_code == 403
    mine = borrower.get("/loans", side="borrowed").json()["items"]
    assert [(i["customer"], i["customer_name"], i["status"]) for i in mine] == [
        (east.pk, east.name, "approved")]
    assert AuditEvent.objects.filter(action="customer.view", username="sales2",
                                     detail__loan=loan_id).exists()
    response = borrower.post(f"/loans/{loan_id}/return")
    assert response.status_code == 200 and response.json()["status"] == "returned"
    assert borrower.get(f"/customers/{east.pk}").status_code == 404
    assert borrower.post(f"/loans/{loan_id}/return").status_code == 400


def test_the_api_refuses_bad_requests_clearly(users, customers, api):
    client = api("sales1")
    response = client.post("/loans", {"asked_for": "上海华东贸易有限公司", "reason": "x"})
    assert response.status_code == 400
    assert response.json()["field"] == "asked_for"
    assert "You can already see this customer" in response.json()["detail"]
    response = client.post("/loans", {"asked_for": "x", "reason": "x", "days": 31})
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "days"
    response = client.post("/loans", {"asked_for": "", "reason": "x"})
    assert response.status_code == 422
    assert client.get("/loans", status="nonsense").status_code == 422
