from django.urls import include, path

from kehu.sales import views

app_name = "sales"

urlpatterns = [
    path("customers/<int:pk>/activities/new/", views.activity_create, name="activity_create"),
    path("customers/<int:pk>/activities/<int:activity_pk>/delete/", views.activity_delete,
         name="activity_delete"),
    path("", include("kehu.sales.credit.urls")),
]

from kehu.sales.plans.urls import urlpatterns as plan_urls  # noqa: E402

urlpatterns += plan_urls
