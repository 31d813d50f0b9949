from django.urls import path

from kehu.sales.credit import views

app_name = "credit"

urlpatterns = [
    path("sales/receivables/", views.receivable_list, name="receivables"),
    path("customers/<int:pk>/receivables/new/", views.receivable_create,
         name="receivable_create"),
    path("customers/<int:pk>/receivables/<int:receivable_pk>/edit/", views.receivable_edit,
         name="receivable_edit"),
    path("customers/<int:pk>/receivables/<int:receivable_pk>/payments/new/",
         views.payment_create, name="payment_create"),
    path("customers/<int:pk>/credit-incidents/new/", views.incident_create,
         name="incident_create"),
]
