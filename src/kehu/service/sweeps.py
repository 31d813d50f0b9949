"""The regular checks of service (a ticket about to miss its target, a key customer due for
a survey), run by `kehu service sweep` from cron every few minutes: a service-level warning
is worth little an hour late. Each check gets the timezone-aware instant to check as; one
that works by day takes `timezone.localdate(now)` (kehu.core.sweeps)."""

from __future__ import annotations

from kehu.core.sweeps import Sweep, SweepResult, Sweeps

__all__ = ["SWEEPS", "Sweep", "SweepResult", "register", "run_command", "run_sweeps"]

_registry = Sweeps()
SWEEPS = _registry.checks
register = _registry.register
run_sweeps = _registry.run
run_command = _registry.run_command
