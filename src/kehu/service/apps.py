from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "kehu.service"
    label = "service"
    verbose_name = _("Service")

    def ready(self) -> None:
        # Each part (tickets, knowledge, surveys, chain) registers its card tabs, task
        # rules and sweeps here with one line.
        from kehu.service.surveys.card import register as register_surveys
        from kehu.service.tickets import hooks as ticket_hooks

        ticket_hooks.register()
        from kehu.service.chain import card as chain_card

        chain_card.register()
        register_surveys()
        post_migrate.connect(_default_categories, sender=self,
                             dispatch_uid="kehu.service.tickets.default_categories")
        from kehu.service.sla import hooks as sla_hooks

        sla_hooks.register()
        post_migrate.connect(sla_hooks.ensure_defaults_after_migrate, sender=self,
                             dispatch_uid="kehu.service.sla.defaults")
        from kehu.service.knowledge import hooks as knowledge_hooks

        knowledge_hooks.register(self)


def _default_categories(sender, using="default", apps=None, **kwargs) -> None:
    """After migrate (and after a flush, which tests do): tickets have categories."""
    from kehu.service.tickets.models import ensure_default_categories

    try:
        model = apps.get_model("service", "TicketCategory") if apps is not None else None
    except LookupError:
        return
    ensure_default_categories(model, using)
