"""Import batches and saved mappings, read-only in the admin: batches are written and undone
only by the import service, which keeps the audit log complete."""

from django.contrib import admin

from kehu.dataio.models import ImportBatch, ImportMapping


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "file_name", "rows", "created", "updated", "status",
                    "created_by", "created_at", "undone_at")
    list_filter = ("kind", "status")
    search_fields = ("file_name", "created_by__username")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ImportMapping)
class ImportMappingAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "created_by", "created_at")
    list_filter = ("kind",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
