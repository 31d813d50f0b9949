from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "kehu.analytics"
    label = "analytics"
    verbose_name = _("Customer value")

    def ready(self) -> None:
        from kehu.analytics import card, installed_base
        from kehu.analytics.models import PRESCRIBED
        from kehu.tasks.models import register_rule

        card.register()
        from kehu.analytics import columns

        columns.register()
        # Sales' account plans are for key accounts: the value scores say which.
        from kehu.analytics.key_accounts import key_customers
        from kehu.sales.plans import keys

        keys.register(key_customers)
        # A converted lead that names its referrer feeds the referrer's influence value.
        from kehu.analytics.services import record_referral_of_lead
        from kehu.sales.leads.signals import lead_converted

        lead_converted.connect(record_referral_of_lead, dispatch_uid="analytics.lead_referral")
        installed_base.register()
        # A segment's treatment is a task in the reader's language, unless an admin wrote
        # their own (value settings).
        for key, (title, _task) in PRESCRIBED.items():
            register_rule(f"segment:{key}", title, editable=True)
