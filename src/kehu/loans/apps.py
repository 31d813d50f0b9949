from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoansConfig(AppConfig):
    name = "kehu.loans"
    label = "loans"
    verbose_name = _("Loans of customer files")

    def ready(self) -> None:
        from kehu.loans import card

        card.register()
