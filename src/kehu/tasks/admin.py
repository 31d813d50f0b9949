from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kehu.customers.models import LifecycleState
from kehu.tasks.models import HeldBack, Playbook, Task, TaskReminder


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("title", "customer", "assignee", "due_on", "priority", "kind", "status",
                    "origin")
    list_filter = ("status", "priority", "kind")
    raw_id_fields = ("customer", "assignee", "created_by", "closed_by")


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    """The treatment of each lifecycle state: one row per state, made by the migration;
    admins change what the task says, its kind, priority and due date, or turn it off."""

    list_display = ("state_label", "create_task", "task_title", "kind", "priority",
                    "due_in_days")
    list_editable = ("create_task", "kind", "priority", "due_in_days")
    fields = ("state", "create_task", "title", "detail", "kind", "priority", "due_in_days",
              "updated_at")
    readonly_fields = ("state", "updated_at")

    @admin.display(description=_("lifecycle state"))
    def state_label(self, obj: Playbook) -> str:
        return str(dict(LifecycleState.choices).get(obj.state, obj.state))

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TaskReminder)
class TaskReminderAdmin(admin.ModelAdmin):
    list_display = ("task", "user", "address", "sent_at")
    raw_id_fields = ("task", "user")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(HeldBack)
class HeldBackAdmin(admin.ModelAdmin):
    list_display = ("assignee", "origin", "count", "source", "created_at")
    list_filter = ("source",)

    def has_add_permission(self, request) -> bool:
        return False
