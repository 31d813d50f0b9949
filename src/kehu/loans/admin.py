from django.contrib import admin

from kehu.loans.models import Loan


# Loans are asked for, decided and ended only through kehu's own pages and API, which check
# who may and audit each step; the admin site only reads them.
@admin.register(Loan)
class LoanAdmin(admin.ModelAdmin):
    list_display = ("id", "asked_for", "customer", "borrower", "status", "requested_at",
                    "decided_by", "ends_at")
    list_filter = ("status",)
    search_fields = ("asked_for", "borrower__username", "=customer__id")
    date_hierarchy = "requested_at"
    raw_id_fields = ("customer", "borrower", "decided_by", "ended_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
