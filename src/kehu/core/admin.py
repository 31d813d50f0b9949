"""Background jobs, read-only: they are created and finished by kehu.core.jobs only."""

from django.contrib import admin

from kehu.core.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "title", "status", "done", "total", "user", "created_at",
                    "finished_at")
    list_filter = ("kind", "status")
    search_fields = ("title", "user__username")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
