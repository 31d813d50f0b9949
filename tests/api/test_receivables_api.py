"""/api/v1/receivables: list with filters and cursor pages, create, read, update with the
version check, payments; scoped like customers, and the sensitive tier (403 without it)."""

from __future__ import annotations

import datetime as dt

import pytest

from kehu.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _new(client, customer, **extra):
    body = {"customer": customer.pk, "number": "R-1", "issued_on": "2026-01-01",
            "amount": "1000.00", **extra}
    return client.post("/receivables", body)


def test_a_manager_records_reads_corrects_and_collects_a_receivable(api, customers, users):
    client = api("manager1")
    east = customers["east"]
    created = _new(client, east, due_on="2026-02-01")
    assert created.status_code == 201, created.content
    r = created.json()
    assert (r["customer"], r["amount"], r["open"], r["version"]) == (east.pk, "1000.00",
                                                                     "1000.00", 1)
    assert r["bucket"] == "90+" or r["days_overdue"] > 0
    rid = r["id"]
    got = client.get(f"/receivables/{rid}")
    assert got.status_code == 200 and got.json()["number"] == "R-1"
    assert AuditEvent.objects.filter(action="customer.view", customer_id=east.pk,
                                     detail__part="credit").exists()
    patched = client.patch(f"/receivables/{rid}", {"version": 1, "notes": "checked"})
    assert patched.status_code == 200 and patched.json()["version"] == 2
    stale = client.patch(f"/receivables/{rid}", {"version": 1, "notes": "again"})
    assert stale.status_code == 409
    paid = client.post(f"/receivables/{rid}/payments",
                       {"paid_on": "2026-03-01", "amount": "400", "method": "acceptance",
                        "reference": "BA-1"})
    assert paid.status_code == 201, paid.content
    too_much = client.post(f"/receivables/{rid}/payments",
                           {"paid_on": "2026-03-02", "amount": "600.01"})
    assert too_much.status_code == 422
    assert "More than is open" in too_much.content.decode()
    payments = client.get(f"/receivables/{rid}/payments").json()["items"]
    assert [(p["amount"], p["method"]) for p in payments] == [("400.00", "acceptance")]
    assert client.get(f"/receivables/{rid}").json()["open"] == "600.00"
    credit = client.get(f"/customers/{east.pk}/credit").json()
    assert credit["open"] == "600.00" and credit["overdue"] == "600.00"


def test_lists_filter_and_page(api, customers, users):
    client = api("admin")
    for n in range(5):
        _new(client, customers["east"], number=f"E{n}",
             due_on=(dt.date.today() + dt.timedelta(days=n - 2)).isoformat(),
             issued_on="2026-01-01")
    _new(client, customers["north"], number="N1", issued_on="2026-01-01")
    first = client.get("/receivables", limit=2, customer=customers["east"].pk).json()
    assert first["count"] == 5 and len(first["items"]) == 2 and first["next_cursor"]
    second = client.get("/receivables", limit=2, customer=customers["east"].pk,
                        cursor=first["next_cursor"]).json()
    assert {i["id"] for i in first["items"]}.isdisjoint(i["id"] for i in second["items"])
    overdue = client.get("/receivables", status="overdue", customer=customers["east"].pk)
    assert overdue.json()["count"] == 2
    assert client.get("/receivables", bucket="1-30").json()["count"] == 2
    assert client.get("/receivables", team=users["manager2"].team_id).json()["count"] == 1
    assert client.get("/receivables", color="red").status_code == 422


def test_scope_and_the_sensitive_tier(api, customers, users):
    rid = _new(api("admin"), customers["east"]).json()["id"]
    # Another team's manager: as if it did not exist.
    assert api("manager2").get(f"/receivables/{rid}").status_code == 404
    assert api("manager2").get("/receivables").json()["count"] == 0
    assert _new(api("manager2"), customers["east"]).status_code == 404
    # The owner, without the sensitive tier: refused, not shown.
    for path in ("/receivables", f"/receivables/{rid}", f"/receivables/{rid}/payments",
                 f"/customers/{customers['east'].pk}/credit"):
        response = api("sales1").get(path)
        assert response.status_code == 403, path
        assert "1000" not in response.content.decode()
    assert _new(api("sales1"), customers["east"], number="R-2").status_code == 403
    # The customer's card through the API hides payment terms and credit limit from sales.
    card = api("sales1").get(f"/customers/{customers['east'].pk}").json()
    assert "payment_terms_days" not in card and "credit_limit" not in card
    assert "payment_terms_days" in api("manager1").get(
        f"/customers/{customers['east'].pk}").json()


def test_a_receivable_names_only_its_customers_transaction(api, customers, children):
    client = api("admin")
    other = children["north"]["transaction"].pk
    refused = _new(client, customers["east"], transaction=other)
    assert refused.status_code == 422 and "No such transaction" in refused.content.decode()
    ok = _new(client, customers["east"], number="R-9",
              transaction=children["east"]["transaction"].pk)
    assert ok.status_code == 201 and ok.json()["transaction"] == children["east"][
        "transaction"].pk
