from django.contrib import admin
from django.urls import include, path

from kehu.api.api import api

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("kehu.accounts.urls")),
    path("audit/", include("kehu.audit.urls")),
    path("data/", include("kehu.dataio.urls")),
    path("loans/", include("kehu.loans.urls")),
    path("", include("kehu.workbench.urls")),
    path("", include("kehu.core.urls")),
    path("", include("kehu.analytics.urls")),
    path("", include("kehu.customers.urls")),
    path("", include("kehu.sales.urls")),
    path("", include("kehu.tasks.urls")),
    path("", include("kehu.service.urls")),
    path("", include("kehu.marketing.urls")),
]

# A server error shows the request id to quote (and answers JSON under /api/).
handler500 = "kehu.core.views.server_error"
