"""URLs of the knowledge base, included in kehu.service.urls (namespace "service")."""

from django.urls import path

from kehu.service.knowledge import views

urlpatterns = [
    path("service/kb/", views.article_list, name="articles"),
    path("service/kb/new/", views.article_create, name="article_create"),
    path("service/kb/suggestions/", views.article_suggestions, name="article_suggestions"),
    path("service/kb/<int:article_pk>/", views.article_detail, name="article"),
    path("service/kb/<int:article_pk>/edit/", views.article_edit, name="article_edit"),
    path("service/kb/<int:article_pk>/tickets/", views.article_link_ticket,
         name="article_link_ticket"),
    path("service/kb/<int:article_pk>/tickets/remove/", views.article_unlink_ticket,
         name="article_unlink_ticket"),
    path("service/kb/from-ticket/", views.article_from_ticket, name="article_from_ticket"),
]
