"""The regular checks of service, run by `kehu service sweep` from cron (every few minutes:
a service-level warning is worth little an hour late).

A check that needs time to pass (a ticket about to miss its target, a key customer due for a
survey) cannot fire on a save; each part registers its check here from ServiceConfig.ready(),
and the command runs them all, each in its own transaction, so one failing check does not
stop the others. A check gets the instant to check as (timezone-aware); one that works by
day takes `timezone.localdate(now)`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction


@dataclass(frozen=True)
class Sweep:
    name: str  # a stable code, e.g. "sla"
    label: str  # what it does, translated, for the command's output
    run: Callable[[dt.datetime], int]  # now -> how many tasks (or records) it made


SWEEPS: dict[str, Sweep] = {}


def register(sweep: Sweep) -> None:
    SWEEPS[sweep.name] = sweep


@dataclass(frozen=True)
class SweepResult:
    name: str
    label: str
    made: int
    error: str = ""


def run_sweeps(now: dt.datetime, only: str | None = None) -> list[SweepResult]:
    results = []
    for sweep in SWEEPS.values():
        if only and sweep.name != only:
            continue
        try:
            with transaction.atomic():
                made = sweep.run(now)
        except Exception as exc:  # noqa: BLE001 — reported per check; the others still run
            results.append(SweepResult(sweep.name, str(sweep.label), 0, str(exc)))
        else:
            results.append(SweepResult(sweep.name, str(sweep.label), made))
    return results
