from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "kehu.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from kehu.sales import tabs
        from kehu.sales.credit import hooks as credit_hooks
        from kehu.sales.leads import card as leads_card
        from kehu.sales.pipeline import card as pipeline_card
        from kehu.sales.pipeline import stale
        from kehu.sales.plans import tabs as plan_tabs

        tabs.register()
        plan_tabs.register()
        credit_hooks.register()
        leads_card.register()
        pipeline_card.register()
        stale.register()
        post_migrate.connect(_default_stages, sender=self,
                             dispatch_uid="kehu.sales.pipeline.default_stages")


def _default_stages(sender, using="default", apps=None, **kwargs) -> None:
    """After migrate (and after a flush, which tests do): the pipeline's stages are there."""
    from kehu.sales.pipeline.models import ensure_default_stages

    try:
        stage = apps.get_model("sales", "Stage") if apps is not None else None
    except LookupError:
        return  # migrated back to before the pipeline existed
    ensure_default_stages(stage, using)
