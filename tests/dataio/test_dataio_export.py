"""Exports: per role rows and columns, audit with row counts, formula cells made inert."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from openpyxl import load_workbook

from kehu.audit.models import AuditEvent
from kehu.customers.services import create_customer, create_transaction
from kehu.dataio.exports.services import export
from kehu.dataio.normalise import guard_formula

pytestmark = pytest.mark.django_db


def _read_csv(path):
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def _read_xlsx(path):
    ws = load_workbook(path).active
    rows = [[c for c in row] for row in ws.iter_rows()]
    headers = [c.value for c in rows[0]]
    return headers, [dict(zip(headers, r, strict=True)) for r in rows[1:]]


def test_sales_exports_only_own_customers_without_the_sensitive_tier(tmp_path, users,
                                                                    customers):
    out = tmp_path / "c.csv"
    assert export(users["sales1"], "customers", "csv", out) == 1
    headers, rows = _read_csv(out)
    assert [r["name"] for r in rows] == ["上海华东贸易有限公司"]
    assert "credit status" not in headers and "credit limit" not in headers
    event = AuditEvent.objects.get(action="export.customers")
    assert (event.username, event.detail["rows"], event.detail["format"]) == ("sales1", 1, "csv")


def test_manager_exports_the_team_with_the_sensitive_tier(tmp_path, users, customers):
    out = tmp_path / "c.xlsx"
    assert export(users["manager1"], "customers", "xlsx", out) == 2
    headers, rows = _read_xlsx(out)
    assert sorted(r["name"].value for r in rows) == ["Hangzhou Silk Co., Ltd.",
                                                     "上海华东贸易有限公司"]
    assert "credit status" in headers
    east = next(r for r in rows if r["name"].value.startswith("上海"))
    assert east["credit status"].value == "Good"
    assert AuditEvent.objects.get(action="export.customers").detail["rows"] == 2


def test_transactions_export_follows_the_customers_scope(tmp_path, users, customers):
    for key in ("east", "north"):
        create_transaction(users["admin"], customers[key], date=date(2024, 1, 2), amount="-5")
    out = tmp_path / "t.csv"
    assert export(users["sales2"], "transactions", "csv", out) == 1
    _, rows = _read_csv(out)
    # A negative amount is a number, not a formula: it is left alone.
    assert [(r["customer"], r["amount"]) for r in rows] == [("北京华北机械厂", "-5.00")]


FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd",
            "\rcmd"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formula_cells_come_out_inert(tmp_path, users, fmt):
    for i, text in enumerate(FORMULAS):
        made = create_customer(users["admin"], {"name": f"F{i}", "external_id": f"F{i}"},
                               owner=users["admin"])
        # Written past the services (which trim blanks), as older data or SQL might be.
        type(made).objects.filter(pk=made.pk).update(name=text, address=text)
    out = tmp_path / f"f.{fmt}"
    assert export(users["admin"], "customers", fmt, out) == len(FORMULAS)
    if fmt == "csv":
        _, rows = _read_csv(out)
        names = [r["name"] for r in rows]
    else:
        _, rows = _read_xlsx(out)
        for r in rows:
            assert r["name"].data_type == "s" and r["address"].data_type == "s"
        # XML turns a carriage return into a line feed on reading; the quote is what counts.
        names = [r["name"].value.replace("\n", "\r") for r in rows]
    assert names == ["'" + t for t in FORMULAS]


def test_the_formula_guard_leaves_ordinary_values_alone():
    assert guard_formula("上海") == "上海"
    assert guard_formula("a=b") == "a=b"
    assert guard_formula(-5) == -5
    assert guard_formula("-5") == "'-5"
