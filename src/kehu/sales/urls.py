from django.urls import include, path

from kehu.sales import views
from kehu.sales.leads import views as leads
from kehu.sales.pipeline import views as pipeline_views

app_name = "sales"

urlpatterns = [
    path("customers/<int:pk>/activities/new/", views.activity_create, name="activity_create"),
    path("customers/<int:pk>/activities/<int:activity_pk>/delete/", views.activity_delete,
         name="activity_delete"),
    path("", include("kehu.sales.credit.urls")),
    path("sales/leads/", leads.lead_list, name="lead_list"),
    path("sales/leads/new/", leads.lead_create, name="lead_create"),
    path("sales/leads/funnel/", leads.lead_funnel, name="lead_funnel"),
    path("sales/leads/<int:lead_pk>/", leads.lead_detail, name="lead_detail"),
    path("sales/leads/<int:lead_pk>/edit/", leads.lead_edit, name="lead_edit"),
    path("sales/leads/<int:lead_pk>/judge/", leads.lead_judge, name="lead_judge"),
    path("sales/leads/<int:lead_pk>/contacts/", leads.lead_contact, name="lead_contact"),
    path("sales/leads/<int:lead_pk>/convert/", leads.lead_convert, name="lead_convert"),
    path("customers/<int:pk>/opportunities/new/", pipeline_views.opportunity_create,
         name="opportunity_create"),
    path("sales/", include("kehu.sales.pipeline.urls")),
]

from kehu.sales.plans.urls import urlpatterns as plan_urls  # noqa: E402

urlpatterns += plan_urls
