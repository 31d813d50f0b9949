from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "kehu.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from kehu.sales import tabs
        from kehu.sales.credit import hooks as credit_hooks
        from kehu.sales.leads import card as leads_card
        from kehu.sales.plans import tabs as plan_tabs

        tabs.register()
        plan_tabs.register()
        credit_hooks.register()
        leads_card.register()
