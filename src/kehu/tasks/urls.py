from django.urls import path

from kehu.tasks import views

app_name = "tasks"

urlpatterns = [
    path("customers/<int:pk>/tasks/new/", views.task_add, name="add"),
    path("customers/<int:pk>/tasks/<int:task_pk>/close/", views.task_close, name="close"),
]
