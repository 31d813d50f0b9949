from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "kehu.marketing"
    label = "marketing"
    verbose_name = _("Marketing")

    def ready(self) -> None:
        # Each part (campaigns, offers, consent) registers its card tabs, task rules and
        # jobs here with one line.
        from kehu.marketing.consent import hooks as consent_hooks

        consent_hooks.register()
        from kehu.marketing.campaigns import hooks as campaign_hooks

        campaign_hooks.register()
        from kehu.marketing.offers import hooks as offer_hooks

        offer_hooks.register()
