"""`kehu sales sweep` runs every registered daily check, reports each, and one failing check
neither stops the others nor keeps what it half wrote."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kehu.sales import sweeps
from kehu.sales.models import Competitor


@pytest.fixture
def registered(monkeypatch):
    seen = []

    def works(today):
        seen.append(today)
        Competitor.objects.create(name=f"Seen {today}")
        return 3

    def breaks(today):
        Competitor.objects.create(name="half written")
        raise ValueError("the ledger is locked")

    for name in list(sweeps.SWEEPS):  # only the two checks below, the real ones put back
        monkeypatch.delitem(sweeps.SWEEPS, name)
    sweeps.register(sweeps.Sweep("breaks", "Broken check", breaks))
    sweeps.register(sweeps.Sweep("works", "Working check", works))
    return seen


@pytest.mark.django_db
def test_every_check_runs_and_a_failure_is_reported_and_rolled_back(registered, capsys):
    with pytest.raises(SystemExit):
        call_command("sales", "sweep", "--today", "2026-03-01")
    out, err = capsys.readouterr()
    assert registered == [dt.date(2026, 3, 1)]
    assert "Working check: 3" in out
    assert "Broken check: failed: the ledger is locked" in err
    assert list(Competitor.objects.values_list("name", flat=True)) == ["Seen 2026-03-01"]


@pytest.mark.django_db
def test_only_one_check_and_clear_errors(registered, capsys):
    call_command("sales", "sweep", "--only", "works")
    assert "Working check: 3" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no check named nothing"):
        call_command("sales", "sweep", "--only", "nothing")
    with pytest.raises(CommandError, match="not a date"):
        call_command("sales", "sweep", "--today", "31/12/2026")
