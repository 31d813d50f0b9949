"""Sign-in throttling that strangers cannot turn against an administrator, the unlock page and
command, and every sign-in, failure, lock and unlock in the audit log."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from kehu.audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def from_address(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def sign_in(client: Client, username: str, password: str = PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password})


def signed_in(client: Client) -> bool:
    return client.get(reverse("customers:list")).status_code == 200


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# The throttle ----------------------------------------------------------------------------

def test_a_strangers_five_wrong_passwords_do_not_stop_the_admin_elsewhere(users):
    stranger = from_address("198.51.100.7")
    for _ in range(4):
        assert sign_in(stranger, "admin", "guess").status_code == 200
    assert sign_in(stranger, "admin", "guess").status_code == 429  # the fifth locks
    # The stranger's address is locked, even with the right password...
    response = sign_in(stranger, "admin")
    assert response.status_code == 429
    assert b'id="address-locked"' in response.content
    assert b'id="name-locked"' not in response.content
    assert not signed_in(stranger)
    # ...but the administrator signs in from their own address.
    admin = from_address("203.0.113.10")
    assert sign_in(admin, "admin").status_code == 302
    assert signed_in(admin)


def test_a_locked_address_counts_no_more_failures(users):
    stranger = from_address("198.51.100.7")
    for _ in range(30):
        sign_in(stranger, "admin", "guess")
    from axes.models import AccessAttempt

    assert sum(a.failures_since_start for a in AccessAttempt.objects.all()) == 5
    assert sign_in(from_address("203.0.113.10"), "admin").status_code == 302


def test_twenty_failures_from_several_addresses_lock_the_name_everywhere(users):
    for i in range(4):
        for _ in range(5):
            sign_in(from_address(f"198.51.100.{i + 1}"), "admin", "guess")
    # A fresh address with the right password is refused: the name is locked.
    admin = from_address("203.0.113.10")
    response = sign_in(admin, "admin")
    assert response.status_code == 429
    assert b'id="name-locked"' in response.content
    assert b'id="address-locked"' not in response.content
    assert not signed_in(admin)
    # Other names are not affected, from any address.
    assert sign_in(from_address("203.0.113.10"), "sales1").status_code == 302


def test_nineteen_failures_do_not_lock_the_name(users):
    for i in range(4):
        for _ in range(5 if i < 3 else 4):
            sign_in(from_address(f"198.51.100.{i + 1}"), "admin", "guess")
    assert sign_in(from_address("203.0.113.10"), "admin").status_code == 302


def test_a_success_clears_only_that_names_failures_from_that_address(users):
    stranger, admin = from_address("198.51.100.7"), from_address("203.0.113.10")
    for _ in range(4):
        sign_in(stranger, "admin", "guess")
    sign_in(admin, "admin", "typo")
    assert sign_in(admin, "admin").status_code == 302
    # The stranger's failures still count against their address.
    sign_in(stranger, "admin", "guess")
    assert sign_in(stranger, "admin").status_code == 429


def test_the_lock_page_speaks_chinese(users):
    client = from_address("198.51.100.7")
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    for _ in range(6):
        response = sign_in(client, "admin", "guess")
    assert response.status_code == 429
    assert "登录已锁定" in response.content.decode()


@override_settings(KEHU_TRUSTED_PROXIES={"10.0.0.2"})
def test_behind_a_trusted_proxy_each_client_has_its_own_address(users):
    """Every request comes from the proxy: without its X-Forwarded-For, five failures by one
    person would lock sign-in for the whole firm."""
    stranger = Client(REMOTE_ADDR="10.0.0.2",
                      headers={"X-Forwarded-For": "1.2.3.4, 198.51.100.7"})
    for _ in range(6):
        sign_in(stranger, "admin", "guess")
    assert sign_in(stranger, "admin").status_code == 429
    colleague = Client(REMOTE_ADDR="10.0.0.2", headers={"X-Forwarded-For": "203.0.113.10"})
    assert sign_in(colleague, "admin").status_code == 302
    [lock] = events("signin.lock_address")
    assert lock.ip == "198.51.100.7"  # the proxy's own hop, not what the client wrote


# Unlocking -------------------------------------------------------------------------------

def _lock_name(name: str = "admin") -> None:
    for i in range(4):
        for _ in range(5):
            sign_in(from_address(f"198.51.100.{i + 1}"), name, "guess")


def test_an_admin_sees_the_locks_and_unlocks_a_name(users):
    _lock_name("sales1")
    page = Client()
    page.force_login(users["admin"])
    body = page.get(reverse("sign_in_locks")).content.decode()
    assert "198.51.100.1" in body and "198.51.100.4" in body
    assert "<td>sales1</td>" in body
    response = page.post(reverse("sign_in_locks"), {"kind": "name", "value": "sales1"})
    assert response.status_code == 302
    assert "<td>sales1</td>" not in page.get(reverse("sign_in_locks")).content.decode()
    assert sign_in(from_address("203.0.113.10"), "sales1").status_code == 302
    [unlock] = events("signin.unlock_name")
    assert unlock.username == "admin" and unlock.via == "web"
    assert unlock.detail["username"] == "sales1" and unlock.detail["records"] == 4


def test_an_admin_unlocks_an_address(users):
    stranger = from_address("198.51.100.7")
    for _ in range(5):
        sign_in(stranger, "sales1", "guess")
    page = Client()
    page.force_login(users["admin"])
    page.post(reverse("sign_in_locks"), {"kind": "address", "value": "198.51.100.7"})
    assert sign_in(stranger, "sales1").status_code == 302
    [unlock] = events("signin.unlock_address")
    assert unlock.detail == {"address": "198.51.100.7", "records": 1}


def test_a_bad_unlock_request_says_why(users):
    page = Client()
    page.force_login(users["admin"])
    response = page.post(reverse("sign_in_locks"), {"kind": "address", "value": "not-an-ip"})
    assert response.status_code == 400
    assert "“not-an-ip” is not a network address." in response.content.decode()
    assert not events("signin.unlock_address")


@pytest.mark.parametrize("role", ["manager1", "sales1", "analyst1"])
def test_only_admins_have_the_locks_page(users, role):
    _lock_name("sales2")
    client = Client()
    client.force_login(users[role])
    assert client.get(reverse("sign_in_locks")).status_code == 404
    assert client.post(reverse("sign_in_locks"),
                       {"kind": "name", "value": "sales2"}).status_code == 404
    assert sign_in(from_address("203.0.113.10"), "sales2").status_code == 429


def test_kehu_unlock_lifts_a_name_or_an_address_and_is_audited(users, capsys):
    _lock_name("admin")
    call_command("unlock", "--list")
    listing = capsys.readouterr().out
    assert "admin\t20\t" in listing and "198.51.100.3\t5\t" in listing
    call_command("unlock", "admin")
    assert "is unlocked" in capsys.readouterr().err
    assert sign_in(from_address("203.0.113.10"), "admin").status_code == 302
    [unlock] = events("signin.unlock_name")
    assert unlock.via == "cli" and unlock.username == "" and unlock.detail["records"] == 4

    stranger = from_address("198.51.100.9")
    for _ in range(5):
        sign_in(stranger, "sales1", "guess")
    call_command("unlock", "--ip", "198.51.100.9")
    assert sign_in(stranger, "sales1").status_code == 302
    assert events("signin.unlock_address")[0].detail["address"] == "198.51.100.9"


@pytest.mark.parametrize("args", [[], ["admin", "--ip", "1.2.3.4"], ["--ip", "nonsense"]])
def test_kehu_unlock_refuses_unclear_requests(args):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as refused:
        call_command("unlock", *args)
    assert refused.value.returncode == 2


# The audit log ---------------------------------------------------------------------------

def test_sign_in_and_out_are_audited(users):
    client = from_address("203.0.113.10")
    sign_in(client, "sales1")
    client.post(reverse("logout"))
    [signin], [signout] = events("signin"), events("signout")
    assert signin.username == signout.username == "sales1"
    assert signin.ip == "203.0.113.10" and signin.via == "web"


def test_a_failure_names_the_attempt_and_the_address_never_the_password(users):
    sign_in(from_address("198.51.100.7"), "sales1", "Secret-Guess-42")
    sign_in(from_address("198.51.100.7"), "nobody", "Other-Guess-43")
    first, second = events("signin.failed")
    assert first.detail == {"username": "sales1", "known": True}
    assert second.detail == {"username": "nobody", "known": False}
    assert first.ip == "198.51.100.7" and first.username == ""  # no actor: nobody signed in
    stored = str(list(AuditEvent.objects.values_list("detail", flat=True)))
    assert "Guess" not in stored


def test_a_lock_is_audited_once_and_the_refused_attempts_after_it(users):
    stranger = from_address("198.51.100.7")
    for _ in range(7):
        sign_in(stranger, "admin", "guess")
    assert len(events("signin.failed")) == 5
    [lock] = events("signin.lock_address")
    assert lock.ip == "198.51.100.7"
    assert lock.detail == {"username": "admin", "failures": 5}
    assert len(events("signin.refused")) == 2
    assert not events("signin.lock_name")


def test_a_name_lock_is_audited(users):
    _lock_name("admin")
    [lock] = events("signin.lock_name")
    assert lock.detail == {"username": "admin", "failures": 20}
    assert len(events("signin.lock_address")) == 4


def test_admin_site_sign_ins_are_audited_too(users):
    users["admin"].is_staff = True
    users["admin"].save()
    client = from_address("203.0.113.10")
    client.post("/admin/login/", {"username": "admin", "password": "wrong"})
    client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert [e.via for e in events("signin.failed")] == ["admin"]
    assert [e.via for e in events("signin")] == ["admin"]


def test_api_calls_are_not_audited_as_sign_ins(users):
    from kehu.accounts.tokens import create_token

    _token, raw = create_token(users["sales1"], "tests")
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    for _ in range(3):
        assert client.get("/api/v1/customers").status_code == 200
    assert not AuditEvent.objects.filter(action__startswith="signin").exists()


def test_the_audit_page_labels_sign_in_events_in_both_languages(users):
    sign_in(from_address("198.51.100.7"), "sales1", "guess")
    page = Client()
    page.force_login(users["admin"])
    body = page.get(reverse("audit:events"), {"action": "signin"}).content.decode()
    assert "Failed sign-in" in body and "an existing user" in body and "yes" in body
    page.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    body = page.get(reverse("audit:events"), {"action": "signin"}).content.decode()
    assert "登录失败" in body
