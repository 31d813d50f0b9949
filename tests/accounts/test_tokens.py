"""A token does not outlive the password or the account it was made under: a password
change by any path revokes the user's API tokens, deactivation does too, and reactivating a
user gives no old token back. And users change their own password."""

from __future__ import annotations

import importlib

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from kehu.accounts.models import ApiToken
from kehu.accounts.tokens import create_token
from kehu.audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Gingko-Teapot-1987"


class FastPBKDF2(PBKDF2PasswordHasher):
    """The preferred hasher in one test (cheap), so that the MD5 hashes of the fixture
    users are upgraded at sign-in."""

    algorithm = "pbkdf2_fast"
    iterations = 2


@pytest.fixture
def token(users) -> str:
    return create_token(users["sales1"], "ERP sync")[1]


def api_works(raw: str) -> bool:
    response = Client().get("/api/v1/customers", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code in (200, 401)
    return response.status_code == 200


def live_tokens(user) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).count()


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# Password changes --------------------------------------------------------------------------

def test_changing_ones_password_on_the_page_revokes_ones_tokens(users, token):
    create_token(users["sales1"], "BI export")
    client = Client(REMOTE_ADDR="203.0.113.10")
    client.force_login(users["sales1"])
    assert api_works(token)
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("api_tokens")
    assert ("Your password is changed. Your 2 API tokens were revoked with the old password"
            in response.content.decode())
    assert not api_works(token) and live_tokens(users["sales1"]) == 0
    # This session stays signed in; the new password works.
    assert client.get(reverse("customers:list")).status_code == 200
    assert Client().post(reverse("login"), {"username": "sales1",
                                            "password": NEW_PASSWORD}).status_code == 302
    [change] = events("user.password")
    assert change.username == "sales1" and change.ip == "203.0.113.10" and change.via == "web"
    revoked = events("token.revoke_password")
    assert sorted(e.detail["name"] for e in revoked) == ["BI export", "ERP sync"]
    assert {e.username for e in revoked} == {"sales1"}


def test_the_password_page_refuses_a_wrong_old_password_and_keeps_the_tokens(users, token):
    client = Client()
    client.force_login(users["sales1"])
    response = client.post(reverse("password_change"), {
        "old_password": "wrong", "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD})
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    assert api_works(token) and not events("user.password")


def test_the_password_page_speaks_chinese(users):
    client = Client()
    client.force_login(users["sales1"])
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    body = client.get(reverse("password_change")).content.decode()
    assert "<h1>修改密码</h1>" in body and "旧密码" in body
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD}, follow=True)
    assert "密码已修改。" in response.content.decode()


def test_the_password_page_needs_a_sign_in(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_an_admin_setting_a_password_in_the_admin_site_revokes_that_users_tokens(users, token):
    admin = users["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = Client(REMOTE_ADDR="203.0.113.20")
    client.force_login(admin)
    url = f"/admin/accounts/user/{users['sales1'].pk}/password/"
    response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
                                 "usable_password": "true"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not api_works(token)
    [revoked] = events("token.revoke_password")
    assert revoked.username == "admin" and revoked.via == "admin"
    assert revoked.ip == "203.0.113.20" and revoked.detail["user"] == "sales1"


def test_set_password_through_code_revokes_the_tokens(users, token):
    user = users["sales1"]
    user.set_password(NEW_PASSWORD)
    user.save()
    assert not api_works(token)
    [revoked] = events("token.revoke_password")
    assert revoked.username == "" and revoked.via == ""  # no request: nobody signed in


def test_the_changepassword_command_revokes_the_tokens(users, token, monkeypatch):
    monkeypatch.setattr("django.contrib.auth.management.commands.changepassword.getpass"
                        ".getpass", lambda prompt="": NEW_PASSWORD)
    call_command("changepassword", "sales1")
    assert not api_works(token)
    assert len(events("token.revoke_password")) == 1


def test_disabling_a_password_revokes_the_tokens(users, token):
    user = users["sales1"]
    user.set_unusable_password()
    user.save()
    assert not api_works(token)


@override_settings(PASSWORD_HASHERS=["tests.accounts.test_tokens.FastPBKDF2",
                                     "django.contrib.auth.hashers.MD5PasswordHasher"])
def test_a_hash_upgraded_at_sign_in_is_no_password_change(users, token):
    assert users["sales1"].password.startswith("md5$")
    client = Client()
    assert client.post(reverse("login"), {"username": "sales1",
                                          "password": PASSWORD}).status_code == 302
    users["sales1"].refresh_from_db()
    assert users["sales1"].password.startswith("pbkdf2_fast$")
    assert api_works(token) and not events("user.password")


def test_saving_a_user_without_a_new_password_keeps_the_tokens(users, token):
    user = users["sales1"]
    user.first_name = "Wang"
    user.save()
    assert api_works(token)


# Deactivation and reactivation ----------------------------------------------------------

def test_a_deactivated_users_tokens_stay_revoked_when_reactivated(users, token):
    user = users["sales1"]
    user.is_active = False
    user.save()
    assert not api_works(token)
    [revoked] = events("token.revoke_inactive")
    assert revoked.detail == {"name": "ERP sync", "user": "sales1"}
    user.is_active = True
    user.save()
    assert not api_works(token)
    assert len(events("token.revoke_inactive")) == 1


def test_deactivating_in_the_admin_site_revokes_the_tokens(users, token):
    admin = users["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = Client()
    client.force_login(admin)
    url = f"/admin/accounts/user/{users['sales1'].pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items()
            if value is not None and name not in {"password", "date_joined", "last_login"}}
    data.update({"date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
                 "groups": [], "user_permissions": []})
    data.pop("is_active")  # the box unticked
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    users["sales1"].refresh_from_db()
    assert not users["sales1"].is_active
    assert not api_works(token)
    [revoked] = events("token.revoke_inactive")
    assert revoked.username == "admin" and revoked.via == "admin"


def test_the_migration_revokes_tokens_kept_by_users_deactivated_before(users, token):
    from django.apps import apps

    type(users["sales1"]).objects.filter(pk=users["sales1"].pk).update(is_active=False)
    keep = create_token(users["sales2"], "live")[1]
    migration = importlib.import_module(
        "kehu.accounts.migrations.0003_revoke_tokens_of_inactive_users")
    migration.revoke_tokens_of_inactive_users(apps, None)
    type(users["sales1"]).objects.filter(pk=users["sales1"].pk).update(is_active=True)
    assert not api_works(token) and api_works(keep)
    [revoked] = events("token.revoke_inactive")
    assert revoked.detail == {"name": "ERP sync", "user": "sales1"}
