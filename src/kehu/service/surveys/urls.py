"""URLs of satisfaction surveys, included in kehu.service.urls (namespace "service")."""

from django.urls import path

from kehu.service.surveys import views

urlpatterns = [
    path("service/surveys/", views.results, name="surveys"),
    path("service/surveys/new/", views.survey_create, name="survey_create"),
    path("service/surveys/<int:survey_pk>/", views.survey_edit, name="survey_edit"),
    path("customers/<int:pk>/surveys/send/", views.survey_send, name="survey_send"),
    # The public page behind the signed link: no sign-in.
    path("survey/<str:survey_token>/", views.survey_answer, name="survey_answer"),
]
