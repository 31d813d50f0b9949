from django.urls import path

from kehu.marketing.consent import views

urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("customers/<int:pk>/consent/", views.consent_set, name="consent_set"),
]
