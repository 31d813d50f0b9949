from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "kehu.service"
    label = "service"
    verbose_name = _("Service")

    def ready(self) -> None:
        # Each part (tickets, knowledge, surveys, chain) registers its card tabs, task
        # rules and sweeps here with one line.
        pass
