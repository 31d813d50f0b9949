from django.urls import path

from kehu.analytics import views

app_name = "analytics"

urlpatterns = [
    path("value/", views.dashboard, name="dashboard"),
    path("value/refresh/", views.refresh, name="refresh"),
    path("value/export/<slug:table>.csv", views.export_table, name="table_csv"),
    path("value/settings/", views.settings_page, name="settings"),
    path("value/models/", views.model_comparison, name="models"),
    path("value/lists/<slug:key>/tasks/", views.list_tasks, name="list_tasks"),
    path("value/settings/costs/<slug:kind>/", views.activity_cost, name="activity_cost"),
    path("value/settings/actions/<slug:segment>/", views.segment_action, name="segment_action"),
    path("customers/<int:pk>/referral/", views.referral, name="referral"),
    path("customers/<int:pk>/loyalty/", views.loyalty_statement, name="loyalty_statement"),
    path("customers/<int:pk>/referral/options/", views.referrer_options,
         name="referrer_options"),
]
