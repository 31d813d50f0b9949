from django.urls import path

from kehu.sales.pipeline import views

# Included by kehu.sales.urls under "sales/" (names in the "sales" namespace).
urlpatterns = [
    path("pipeline/", views.board, name="pipeline"),
    path("opportunities/", views.opportunity_list, name="opportunities"),
    path("opportunities/<int:opportunity_pk>/", views.opportunity_detail, name="opportunity"),
    path("opportunities/<int:opportunity_pk>/move/", views.opportunity_move,
         name="opportunity_move"),
    path("opportunities/<int:opportunity_pk>/delete/", views.opportunity_delete,
         name="opportunity_delete"),
    path("forecast/", views.forecast, name="forecast"),
    path("stages/", views.stage_list, name="stages"),
    path("stages/<int:stage_pk>/", views.stage_save, name="stage"),
    path("stages/<int:stage_pk>/delete/", views.stage_delete, name="stage_delete"),
    path("competitors/", views.competitor_list, name="competitors"),
    path("competitors/<int:competitor_pk>/", views.competitor_save, name="competitor"),
    path("competitors/<int:competitor_pk>/delete/", views.competitor_delete,
         name="competitor_delete"),
]
