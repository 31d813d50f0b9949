from django.urls import path

from kehu.core import views

app_name = "core"

urlpatterns = [
    path("jobs/<int:pk>/", views.job_status, name="job"),
]
