"""Regular checks run from cron: a check that needs time to pass (an opportunity nobody
touched for weeks, a ticket about to miss its target) cannot fire on a save. An app keeps
one `Sweeps` registry, its parts register their checks from AppConfig.ready(), and its
command runs them all, each in its own transaction, so one failing check does not stop the
others."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Sweep:
    name: str  # a stable code, e.g. "stale_opportunities"
    label: str  # what it does, translated, for the command's output
    run: Callable[[Any], int]  # the day or instant checked -> how many tasks it made


@dataclass(frozen=True)
class SweepResult:
    name: str
    label: str
    made: int
    error: str = ""


@dataclass
class Sweeps:
    checks: dict[str, Sweep] = field(default_factory=dict)

    def register(self, sweep: Sweep) -> None:
        self.checks[sweep.name] = sweep

    def run(self, at: Any, only: str | None = None) -> list[SweepResult]:
        results = []
        for sweep in self.checks.values():
            if only and sweep.name != only:
                continue
            try:
                with transaction.atomic():
                    made = sweep.run(at)
            except Exception as exc:  # noqa: BLE001 — reported per check; the others run
                results.append(SweepResult(sweep.name, str(sweep.label), 0, str(exc)))
            else:
                results.append(SweepResult(sweep.name, str(sweep.label), made))
        return results

    def run_command(self, command: BaseCommand, at: Any, only: str | None) -> None:
        """What an app's `sweep` command does: refuse an unknown --only with the names of
        the checks, run them, print each one's count or failure, and exit with status 1
        when one failed, so that cron reports it."""
        if only and only not in self.checks:
            raise CommandError(_("There is no check named %(name)s; the checks are: "
                                 "%(names)s.") % {"name": only,
                                                   "names": ", ".join(self.checks) or "—"})
        failed = False
        for result in self.run(at, only):
            if result.error:
                failed = True
                command.stderr.write(_("%(label)s: failed: %(error)s")
                                     % {"label": result.label, "error": result.error})
            else:
                command.stdout.write(_("%(label)s: %(n)d") % {"label": result.label,
                                                             "n": result.made})
        if failed:
            raise SystemExit(1)
