from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    name = "kehu.tasks"
    label = "tasks"
    verbose_name = _("Tasks")

    def ready(self) -> None:
        from kehu.tasks import card
        from kehu.tasks.models import PLAYBOOK_TEXTS, register_rule

        card.register()
        for state, (title, detail) in PLAYBOOK_TEXTS.items():
            register_rule(f"playbook:{state}", title, detail, editable=True)
