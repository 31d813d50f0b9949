from django.urls import path

from kehu.service.chain import views

urlpatterns = [
    path("service/dashboard/", views.dashboard, name="dashboard"),
    path("service/chain/", views.chain, name="chain"),
    path("service/chain/flags/", views.flags, name="chain_flags"),
    path("service/chain/flags/tasks/", views.flag_tasks, name="chain_flag_tasks"),
    path("service/chain/settings/", views.settings_page, name="chain_settings"),
]
