"""Where the service levels join the rest of kehu, called from ServiceConfig.ready(): the
card's service-group panel, the clocks worked out on every change of a ticket, the sweep and
the texts of its tasks, and the default calendar and targets after migrate (and after a
flush)."""

from __future__ import annotations

import logging

from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)


def _on_ticket(sender, ticket, **kwargs) -> None:
    """Inside the transaction of the ticket's change: its clocks follow at once."""
    from kehu.service.sla import clock
    from kehu.service.sla.sweep import close_met_warnings
    from kehu.service.sla.tracking import refresh_clocks

    try:
        rows = refresh_clocks([ticket])
    except clock.ClockError as e:  # a calendar that cannot count must not stop the ticket
        log.warning("service-level clock of ticket %s not worked out: %s", ticket.pk, e)
        return
    close_met_warnings(ticket, rows[0])


def register() -> None:
    from kehu.service import sweeps
    from kehu.service.sla import card, sweep
    from kehu.service.tickets import signals
    from kehu.tasks.models import register_rule

    card.register()
    sweeps.register(sweeps.Sweep(sweep.SWEEP, _("Service-level warnings and escalations"),
                                 sweep.run))
    for rule, (title, detail) in sweep.RULES.items():
        register_rule(f"{rule}:*", title, detail)
    signals.ticket_opened.connect(_on_ticket, dispatch_uid="kehu.service.sla.opened")
    signals.ticket_changed.connect(_on_ticket, dispatch_uid="kehu.service.sla.changed")


def ensure_defaults_after_migrate(sender, using="default", apps=None, **kwargs) -> None:
    from kehu.service.sla.models import ensure_defaults

    try:
        models = {name: apps.get_model("service", model) if apps is not None else None
                  for name, model in (("hours_model", "ServiceHours"),
                                      ("period_model", "WorkingPeriod"),
                                      ("target_model", "SlaTarget"))}
    except LookupError:
        return
    ensure_defaults(using, **models)
