"""Exports from the web: the customer list as filtered, transactions, per role; audited;
formula cells inert."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from kehu.audit.models import AuditEvent
from kehu.customers.services import create_customer, create_transaction

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _csv(response):
    assert response.status_code == 200, response.content[:500]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_the_customer_list_exports_as_filtered(users, customers):
    client = client_for(users["manager1"])
    list_page = client.get(reverse("customers:list"), {"q": "shanghai"}).content.decode()
    assert "what=customers&amp;format=csv&amp;q=shanghai" in list_page
    response = client.get(reverse("dataio:export_download"),
                          {"what": "customers", "format": "csv", "q": "shanghai"})
    assert response["Content-Disposition"].startswith('attachment; filename="kehu-customers-')
    headers, rows = _csv(response)
    assert [r["name"] for r in rows] == ["上海华东贸易有限公司"]
    assert "credit status" in headers  # managers see the sensitive tier
    event = AuditEvent.objects.get(action="export.customers")
    assert (event.username, event.detail["rows"], event.via) == ("manager1", 1, "web")


def test_sales_export_their_own_rows_without_the_sensitive_tier(users, customers):
    headers, rows = _csv(client_for(users["sales1"]).get(
        reverse("dataio:export_download"), {"what": "customers", "format": "csv"}))
    assert [r["name"] for r in rows] == ["上海华东贸易有限公司"]
    assert "credit status" not in headers and "credit limit" not in headers


def test_transactions_export_by_date_as_xlsx(users, customers):
    admin = users["admin"]
    for day in (1, 15, 28):
        create_transaction(admin, customers["east"], date=datetime.date(2024, 2, day),
                           amount="10")
    create_transaction(admin, customers["north"], date=datetime.date(2024, 2, 15), amount="99")
    response = client_for(users["sales1"]).get(reverse("dataio:export_download"), {
        "what": "transactions", "format": "xlsx", "date_from": "2024-02-10",
        "date_to": "2024-02-20"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][2] == "上海华东贸易有限公司"
    assert AuditEvent.objects.get(action="export.transactions").detail["rows"] == 1


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formula_cells_come_out_inert_from_the_web(users, fmt):
    create_customer(users["admin"], {"name": '=HYPERLINK("http://evil.example","点我")',
                                     "address": "@SUM(A1)"}, owner=users["sales1"])
    response = client_for(users["sales1"]).get(reverse("dataio:export_download"),
                                               {"what": "customers", "format": fmt})
    if fmt == "csv":
        _headers, rows = _csv(response)
        name, address = rows[0]["name"], rows[0]["address"]
    else:
        ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
        header = [c.value for c in ws[1]]
        row = ws[2]
        cells = row[header.index("name")], row[header.index("address")]
        assert all(c.data_type == "s" for c in cells)
        name, address = (c.value for c in cells)
    assert name == '\'=HYPERLINK("http://evil.example","点我")' and address == "'@SUM(A1)"


@pytest.mark.parametrize("role", ["service1"])
def test_roles_without_export_have_no_export(users, customers, role):
    client = client_for(users[role])
    assert client.get(reverse("dataio:export")).status_code == 404
    assert client.get(reverse("dataio:export_download"),
                      {"what": "customers", "format": "csv"}).status_code == 404
    assert "what=customers" not in client.get(reverse("customers:list")).content.decode()
    assert not AuditEvent.objects.filter(action__startswith="export").exists()


def test_a_bad_request_says_what_is_missing(users):
    response = client_for(users["admin"]).get(reverse("dataio:export_download"),
                                              {"what": "secrets"}, follow=True)
    assert "Choose a list and a format to export." in response.content.decode()
