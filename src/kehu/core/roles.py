"""The roles people have in the firm, which the scopes (kehu.core.permissions) and the role
rules (kehu.core.policy) are written in terms of."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MANAGER = "manager", _("Manager")
    SALES = "sales", _("Sales")
    SERVICE = "service", _("Service")
    MARKETING = "marketing", _("Marketing")
    ANALYST = "analyst", _("Analyst")


# Roles that see the sensitive tier (credit status, contacts' personal notes, the legal
# representative's personal data) without an individual grant.
ROLES_WITH_SENSITIVE_TIER = {Role.ADMIN, Role.MANAGER}
