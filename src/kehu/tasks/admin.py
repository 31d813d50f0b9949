from django.contrib import admin

from kehu.tasks.models import Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("title", "customer", "assignee", "due_on", "priority", "status", "origin")
    list_filter = ("status", "priority")
    raw_id_fields = ("customer", "assignee", "created_by", "closed_by")
