from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kehu.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.core.signals import request_started

        from kehu.core import jobs

        # A web process that starts after a crash marks its predecessor's jobs interrupted.
        request_started.connect(jobs.reap_on_first_request, dispatch_uid="kehu-reap-jobs")
