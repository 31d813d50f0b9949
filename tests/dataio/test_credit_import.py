"""Importing receivables and payments: all or nothing with a message per row and column,
English and Chinese headings, duplicates and overpayments refused, the sensitive tier
required; undoing a payments file puts the receivables back as they were."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kehu.dataio.imports.services import import_file, undo_batch
from kehu.sales.credit.models import Payment, Receivable

pytestmark = pytest.mark.django_db


def _csv(tmp_path, text, name="f.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def coded(customers):
    for key, code in (("east", "E1"), ("north", "N1")):
        customers[key].external_id = code
        customers[key].save()
    return customers


def test_chinese_headings_and_default_due_dates(tmp_path, users, coded):
    coded["east"].payment_terms_days = 45
    coded["east"].save()
    text = ("客户编号,发票号,开票日期,到期日,应收金额,备注\n"
            "E1,FP-1,2026-01-10,2026-02-10,1200.50,首批\n"
            "E1,FP-2,2026-01-20,,800,\n")
    report = import_file(users["manager1"], "receivables", _csv(tmp_path, text))
    assert report.ok, report.errors
    got = {r.number: (r.due_on.isoformat(), r.amount) for r in Receivable.objects.all()}
    assert got == {"FP-1": ("2026-02-10", Decimal("1200.50")),
                   "FP-2": ("2026-03-06", Decimal("800.00"))}  # 45 days' terms


def test_one_bad_row_refuses_the_whole_file_naming_each_cell(tmp_path, users, coded):
    text = ("customer,invoice number,invoice date,due date,amount\n"
            "E1,A-1,2026-01-10,2026-02-10,100\n"
            "E1,A-1,2026-01-11,2026-02-11,100\n"
            "N1,A-3,2026-01-10,2026-02-10,100\n"
            "E1,A-4,2026-03-10,2026-02-10,100\n"
            "E1,A-5,2026-01-10,2026-02-10,-5\n")
    report = import_file(users["manager1"], "receivables", _csv(tmp_path, text))
    found = {(e.line, e.column): e.message for e in report.errors}
    assert found == {
        (3, "invoice number"): "Duplicate of line 2 in this file.",
        (4, "customer"): "Unknown customer “N1” (or one you may not change).",
        (5, "due date"): "The due date cannot be before the invoice date.",
        (6, "amount"): "Must be more than zero.",
    }
    assert not Receivable.objects.exists()


def test_payments_are_matched_by_invoice_and_never_overpay(tmp_path, users, coded):
    import_file(users["manager1"], "receivables", _csv(
        tmp_path, "客户编号,发票号,开票日期,到期日,金额\nE1,FP-1,2026-01-10,2026-02-10,1000\n",
        "r.csv"))
    refused = import_file(users["manager1"], "payments", _csv(tmp_path, (
        "客户编号,发票号,回款日期,回款金额,付款方式\n"
        "E1,FP-1,2026-02-01,600,承兑汇票\n"
        "E1,FP-1,2026-02-20,500,转账\n"
        "E1,FP-9,2026-02-20,5,转账\n"), "p1.csv"))
    found = {(e.line, e.column): e.message for e in refused.errors}
    assert found == {
        (3, "回款金额"): "More than is open on receivable “FP-1” (400.00, counting the rows "
                      "above).",
        (4, "发票号"): "This customer has no receivable numbered “FP-9”.",
    }
    assert not Payment.objects.exists()
    report = import_file(users["manager1"], "payments", _csv(tmp_path, (
        "customer,invoice number,payment date,amount paid,payment method,ref\n"
        "E1,FP-1,2026-02-01,600,Bank acceptance bill,BA-7\n"
        "E1,FP-1,2026-02-20,400,transfer,\n"), "p2.csv"))
    assert report.ok, report.errors
    r = Receivable.objects.get()
    assert (r.paid, r.paid_on.isoformat()) == (Decimal("1000.00"), "2026-02-20")
    undo_batch(users["manager1"], report.batch_id)
    r.refresh_from_db()
    assert (r.paid, r.paid_on) == (Decimal("0.00"), None)


def test_roles_without_the_sensitive_tier_may_not_import_credit(tmp_path, users, coded):
    text = "customer,invoice date,amount\nE1,2026-01-10,100\n"
    report = import_file(users["sales1"], "receivables", _csv(tmp_path, text))
    assert not report.ok and "sensitive tier" in report.errors[0].message
    assert not Receivable.objects.exists()


def test_imported_orders_over_the_limit_are_flagged(tmp_path, users, coded):
    from kehu.sales.credit.models import CreditFlag

    coded["east"].credit_limit = Decimal("500")
    coded["east"].save()
    text = ("客户编号,下单日期,金额,单号\nE1,2026-01-01,300,S1\nE1,2026-01-02,300,S2\n"
            "N1,2026-01-02,9000,S3\n")
    report = import_file(users["admin"], "transactions", _csv(tmp_path, text, "orders.csv"))
    assert report.ok, report.errors
    flag = CreditFlag.objects.get()
    assert (flag.customer_id, flag.subject, flag.amount, flag.reference) == (
        coded["east"].pk, "import", Decimal("600.00"), "orders.csv")
    # Undoing the import takes its flag with it.
    undo_batch(users["admin"], report.batch_id)
    assert not CreditFlag.objects.exists()
