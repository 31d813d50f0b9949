from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import ApiToken, Team, User
from kehu.accounts.services import move_user_to_team
from kehu.core.requests import client_ip


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "share_customers")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "team", "sensitive_tier",
                    "privacy_officer", "is_active")
    list_filter = ("role", "team", "sensitive_tier", "privacy_officer", "is_active")
    fieldsets = (*DjangoUserAdmin.fieldsets,
                 (_("kehu"), {"fields": ("role", "team", "sensitive_tier", "privacy_officer")}))
    add_fieldsets = (*DjangoUserAdmin.add_fieldsets,
                     (_("kehu"), {"fields": ("role", "team", "sensitive_tier",
                                             "privacy_officer")}))

    def save_model(self, request, obj, form, change):
        new_team = obj.team
        if change and "team" in form.changed_data:
            # The team moves through the service so that owned customers follow.
            obj.team_id = form.initial.get("team")
            super().save_model(request, obj, form, change)
            move_user_to_team(request.user, obj, new_team, ip=client_ip(request), via="admin")
        else:
            super().save_model(request, obj, form, change)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "name", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    readonly_fields = ("user", "name", "prefix", "key_hash", "created_at", "last_used_at")

    def has_add_permission(self, request):
        return False
