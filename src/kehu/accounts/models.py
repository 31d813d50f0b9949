"""Users, teams, roles and the tiers of access (分级管理)."""

from __future__ import annotations

import re

from django.contrib.auth.models import AbstractUser
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from kehu.core.roles import ROLES_WITH_SENSITIVE_TIER, Role

_HAN = re.compile(r"[\u3400-\u9fff]")


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    share_customers = models.BooleanField(
        _("sales share the team's customers"),
        default=False,
        help_text=_("When on, sales users see every customer owned in their team, "
                    "not only their own."),
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.SALES)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="members",
    )
    sensitive_tier = models.BooleanField(
        _("sensitive tier granted"),
        default=False,
        help_text=_("Sees and edits sensitive fields even if the role does not."),
    )
    privacy_officer = models.BooleanField(
        _("privacy officer"),
        default=False,
        help_text=_("Answers data-subject requests: exports everything kehu holds about a "
                    "person and erases it (PIPL Art. 44–47, GDPR Art. 15–17), for every "
                    "customer of the firm."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def set_unusable_password(self) -> None:
        super().set_unusable_password()
        self._password_disabled = True

    def save(self, *args, **kwargs) -> None:
        """A password changed or disabled, by any path (kehu's page, the admin site,
        `changepassword`, a service), ends the user's API tokens, and so does deactivation:
        a token must not outlive the password or the account it was made under. A hash
        upgraded at sign-in is no new password (Django forgets the raw one before saving)."""
        existing = not self._state.adding and self.pk is not None
        new_password = existing and (self._password is not None
                                     or getattr(self, "_password_disabled", False))
        with transaction.atomic():
            super().save(*args, **kwargs)
            self._password_disabled = False
            if existing and (new_password or not self.is_active):
                from kehu.accounts.services import credentials_changed

                credentials_changed(self, new_password=new_password)

    def get_full_name(self) -> str:
        # Chinese names are written family name first with no space: 王晓东, not 晓东 王.
        first, last = self.first_name.strip(), self.last_name.strip()
        if _HAN.search(first + last):
            return f"{last}{first}"
        return f"{first} {last}".strip()

    @property
    def is_kehu_admin(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN

    @property
    def is_privacy_officer(self) -> bool:
        # Deliberately not implied by the admin role: handling data-subject requests is a
        # separate, named responsibility (a superuser can do anything anyway).
        return self.is_active and (self.is_superuser or self.privacy_officer)

    @property
    def sees_sensitive(self) -> bool:
        return self.is_kehu_admin or self.role in ROLES_WITH_SENSITIVE_TIER or self.sensitive_tier

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens",
                             verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"
