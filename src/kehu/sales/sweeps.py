"""The daily checks of the sales areas, run by `kehu sales sweep` from cron.

A check that needs time to pass (an opportunity nobody touched for weeks, an invoice that fell
overdue) cannot fire on a save; each area registers its check here from its AppConfig.ready(),
and the command runs them all, each in its own transaction, so one failing check does not
stop the others."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction


@dataclass(frozen=True)
class Sweep:
    name: str  # a stable code, e.g. "stale_opportunities"
    label: str  # what it does, translated, for the command's output
    run: Callable[[dt.date], int]  # today -> how many tasks (or records) it made


SWEEPS: dict[str, Sweep] = {}


def register(sweep: Sweep) -> None:
    SWEEPS[sweep.name] = sweep


@dataclass(frozen=True)
class SweepResult:
    name: str
    label: str
    made: int
    error: str = ""


def run_sweeps(today: dt.date, only: str | None = None) -> list[SweepResult]:
    results = []
    for sweep in SWEEPS.values():
        if only and sweep.name != only:
            continue
        try:
            with transaction.atomic():
                made = sweep.run(today)
        except Exception as exc:  # noqa: BLE001 — reported per check; the others still run
            results.append(SweepResult(sweep.name, str(sweep.label), 0, str(exc)))
        else:
            results.append(SweepResult(sweep.name, str(sweep.label), made))
    return results
