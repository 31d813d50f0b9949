from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    name = "kehu.tasks"
    label = "tasks"
    verbose_name = _("Tasks")

    def ready(self) -> None:
        from kehu.tasks import card

        card.register()
