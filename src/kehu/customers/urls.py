from django.urls import path

from kehu.customers import views

app_name = "customers"

urlpatterns = [
    path("customers/", views.customer_list, name="list"),
    path("customers/new/", views.customer_create, name="create"),
    path("customers/<int:pk>/", views.customer_card, name="card"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="edit"),
    path("customers/<int:pk>/state/", views.customer_state, name="state"),
    path("customers/<int:pk>/state/unlock/", views.customer_state_unlock, name="state_unlock"),
    path("customers/<int:pk>/confirm/", views.customer_confirm, name="confirm"),
    path("customers/<int:pk>/owner/", views.customer_owner, name="owner"),
    path("customers/<int:pk>/delete/", views.customer_delete, name="delete"),
    path("customers/<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("customers/<int:pk>/contacts/<int:contact_pk>/edit/", views.contact_edit,
         name="contact_edit"),
    path("customers/<int:pk>/contacts/<int:contact_pk>/delete/", views.contact_delete,
         name="contact_delete"),
    path("customers/<int:pk>/transactions/new/", views.transaction_create,
         name="transaction_create"),
    path("customers/<int:pk>/transactions/<int:txn_pk>/delete/", views.transaction_delete,
         name="transaction_delete"),
]
