from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "kehu.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        # Sign-in events into the audit log. Axes (earlier in INSTALLED_APPS) connects its
        # own receivers first, so they have counted an attempt when kehu's record it.
        from kehu.accounts import signin  # noqa: F401
