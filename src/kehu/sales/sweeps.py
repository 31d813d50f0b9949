"""The daily checks of the sales areas (stale opportunities, overdue invoices), run by
`kehu sales sweep` from cron; each check gets the day to check as (kehu.core.sweeps)."""

from __future__ import annotations

from kehu.core.sweeps import Sweep, SweepResult, Sweeps

__all__ = ["SWEEPS", "Sweep", "SweepResult", "register", "run_command", "run_sweeps"]

_registry = Sweeps()
SWEEPS = _registry.checks
register = _registry.register
run_sweeps = _registry.run
run_command = _registry.run_command
