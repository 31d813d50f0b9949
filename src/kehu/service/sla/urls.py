from django.urls import path

from kehu.service.sla import views

urlpatterns = [
    path("service/hours/", views.hours, name="sla_hours"),
    path("service/hours/days/<int:holiday_pk>/delete/", views.holiday_delete,
         name="sla_holiday_delete"),
    path("service/targets/", views.targets, name="sla_targets"),
    path("customers/<int:pk>/service-group/", views.customer_group,
         name="sla_customer_group"),
]
