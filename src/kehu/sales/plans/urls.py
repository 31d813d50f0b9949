"""URLs of key-account plans, included in kehu.sales.urls (namespace "sales")."""

from django.urls import path

from kehu.sales.plans import views

urlpatterns = [
    path("sales/plans/", views.plan_list, name="plans"),
    path("customers/<int:pk>/plan/new/", views.plan_create, name="plan_create"),
    path("sales/plans/<int:plan_pk>/", views.plan_detail, name="plan"),
    path("sales/plans/<int:plan_pk>/edit/", views.plan_edit, name="plan_edit"),
    path("sales/plans/<int:plan_pk>/orientation/", views.plan_orientation,
         name="plan_orientation"),
    path("sales/plans/<int:plan_pk>/competitors/new/", views.sheet_create,
         name="plan_competitor_create"),
    path("sales/plans/<int:plan_pk>/competitors/<int:sheet_pk>/edit/", views.sheet_edit,
         name="plan_competitor_edit"),
    path("sales/plans/<int:plan_pk>/competitors/<int:sheet_pk>/delete/", views.sheet_delete,
         name="plan_competitor_delete"),
    path("sales/plans/<int:plan_pk>/steps/new/", views.step_create, name="plan_step_create"),
    path("sales/plans/<int:plan_pk>/steps/<int:step_pk>/edit/", views.step_edit,
         name="plan_step_edit"),
    path("sales/plans/<int:plan_pk>/steps/<int:step_pk>/delete/", views.step_delete,
         name="plan_step_delete"),
    path("sales/plans/<int:plan_pk>/steps/<int:step_pk>/done/", views.step_done,
         name="plan_step_done"),
]
