"""Customer exports carry each customer's value figures (segment, quadrant, CLV, 12-month
contribution, P(alive), loyalty, at risk) as of the latest refresh, empty for a customer not
scored yet, in the export's one query."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from kehu.analytics.models import CustomerValue, ValueRefresh
from kehu.dataio.exports.services import export

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(customers):
    run = ValueRefresh.objects.create(as_of=timezone.localdate(), status="done")
    CustomerValue.objects.create(customer=customers["east"], refresh=run, segment="invest",
                                 quadrant="protect", clv=Decimal("1234.50"),
                                 net_contribution_12m=Decimal("300.00"), p_alive=0.876543,
                                 loyalty_index=71.25, at_risk=True)
    return customers["east"]


def _rows(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return {r["ID"]: r for r in csv.DictReader(f)}


def test_the_csv_has_the_value_columns(users, customers, scored, tmp_path):
    out = tmp_path / "customers.csv"
    export(users["manager1"], "customers", "csv", out)
    rows = _rows(out)
    east = rows[str(scored.pk)]
    assert east["value segment"] == "High current, high potential: invest and retain"
    assert east["volume × loyalty"] == "Large and loyal: protect"
    assert (east["CLV"], east["net contribution, last 12 months"]) == ("1234.50", "300.00")
    assert (east["P(alive)"], east["loyalty index"], east["at risk"]) == ("0.8765", "71.2",
                                                                          "yes")
    other = rows[str(customers["east_b"].pk)]
    assert other["value segment"] == "" and other["CLV"] == "" and other["at risk"] == ""


def test_the_xlsx_keeps_figures_as_numbers_and_the_query_count_flat(users, customers, scored,
                                                                   tmp_path):
    out = tmp_path / "customers.xlsx"
    with CaptureQueriesContext(connection) as few:
        export(users["manager1"], "customers", "xlsx", out)
    sheet = load_workbook(out).active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    east = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == scored.pk)
    assert east[header.index("CLV")] == pytest.approx(1234.5)
    assert east[header.index("P(alive)")] == pytest.approx(0.8765)
    run = ValueRefresh.objects.get()
    for c in customers.values():
        CustomerValue.objects.get_or_create(customer=c, refresh=run)
    with CaptureQueriesContext(connection) as more:
        export(users["manager1"], "customers", "xlsx", tmp_path / "again.xlsx")
    assert len(more) == len(few)
