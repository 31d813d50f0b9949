from django.urls import path

from kehu.marketing.campaigns import views

urlpatterns = [
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<int:campaign_pk>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:campaign_pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:campaign_pk>/launch/", views.campaign_launch, name="campaign_launch"),
    path("campaigns/<int:campaign_pk>/finish/", views.campaign_finish, name="campaign_finish"),
    path("target-lists/", views.target_list_list, name="target_lists"),
    path("target-lists/new/", views.target_list_create, name="target_list_create"),
    path("target-lists/count/", views.target_list_count, name="target_list_count"),
    path("target-lists/<int:list_pk>/", views.target_list_detail, name="target_list_detail"),
    path("target-lists/<int:list_pk>/edit/", views.target_list_edit, name="target_list_edit"),
    path("target-lists/<int:list_pk>/freeze/", views.target_list_freeze,
         name="target_list_freeze"),
]
