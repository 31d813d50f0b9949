from django.apps import AppConfig
from django.db.models.signals import post_migrate
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
        post_migrate.connect(_default_playbooks, sender=self,
                             dispatch_uid="kehu.tasks.default_playbooks")


def _default_playbooks(sender, using="default", apps=None, **kwargs) -> None:
    """After migrate (and after a flush, which tests do): each state has its playbook.
    Without them the first-purchase welcome calls and every state's tasks stop."""
    from kehu.tasks.models import ensure_default_playbooks

    try:
        playbook = apps.get_model("tasks", "Playbook") if apps is not None else None
    except LookupError:
        return  # migrated back to before the playbooks existed
    ensure_default_playbooks(playbook, using)
