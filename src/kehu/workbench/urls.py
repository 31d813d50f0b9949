from django.urls import path

from kehu.workbench import views

app_name = "workbench"

urlpatterns = [
    path("", views.home, name="home"),
    path("workbench/tasks/<int:task_pk>/close/", views.close_task, name="close_task"),
    path("workbench/reassign/", views.reassign, name="reassign"),
]
