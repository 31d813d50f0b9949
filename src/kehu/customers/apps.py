from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_search_index(sender, using, **kwargs):
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from kehu.customers import list_counts, search_index

    # post_migrate also fires after a migrate that stopped short of the search migration.
    applied = MigrationRecorder(connections[using]).applied_migrations()
    if ("customers", "0002_search_index") in applied:
        search_index.install(connections[using])
    if ("customers", "0014_list_counts") in applied:
        list_counts.install(connections[using])


def _renew_generation(sender, alias, **kwargs) -> None:
    from django.db import connections

    from kehu.customers import list_counts

    list_counts.renew(connections[alias])


def _follow_owner(sender, user, actor, **kwargs) -> int:
    from django.utils.translation import gettext as _

    from kehu.customers import invariants

    return invariants.follow_owner_team(user.pk, by=actor, reason=_("The owner moved to "
                                                                    "another team"))


class CustomersConfig(AppConfig):
    name = "kehu.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        post_migrate.connect(
            _ensure_search_index, sender=self, dispatch_uid="kehu.customers.search_index"
        )
        from kehu.core.backup import restored

        restored.connect(_renew_generation, dispatch_uid="kehu.customers.list_counts")
        from kehu.accounts.signals import user_moved_team

        user_moved_team.connect(_follow_owner, dispatch_uid="kehu.customers.follow_owner")
        from kehu.customers import tabs

        tabs.register()
        from kehu.audit.naming import register_customer_namer
        from kehu.customers.selectors import customer_names

        register_customer_namer(customer_names)
