from django.urls import path

from kehu.service.tickets import views

urlpatterns = [
    path("service/tickets/", views.queue, name="tickets"),
    path("service/tickets/new/", views.ticket_new, name="ticket_new"),
    path("service/tickets/<int:ticket_pk>/", views.ticket_detail, name="ticket"),
    path("service/tickets/<int:ticket_pk>/edit/", views.ticket_edit, name="ticket_edit"),
    path("service/tickets/<int:ticket_pk>/assign/", views.ticket_assign, name="ticket_assign"),
    path("service/tickets/<int:ticket_pk>/take/", views.ticket_take, name="ticket_take"),
    path("service/tickets/<int:ticket_pk>/status/", views.ticket_status, name="ticket_status"),
    path("service/tickets/<int:ticket_pk>/entries/", views.ticket_entry, name="ticket_entry"),
    path("service/customers/<int:pk>/", views.agent_view, name="agent"),
    path("service/categories/", views.categories, name="categories"),
    path("service/categories/<int:category_pk>/delete/", views.category_delete,
         name="category_delete"),
]
