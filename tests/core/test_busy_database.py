"""A write that waited too long for SQLite's lock answers 503 with a message, not a 500."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import OperationalError
from django.urls import reverse

from kehu.customers import services
from tests.api.conftest import ApiClient
from tests.web.test_pages import _edit_data, client_for


@pytest.fixture
def locked(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "update_customer", refuse)


def test_a_form_sent_while_the_database_is_busy_says_so(users, customers, locked):
    customer = customers["east"]
    response = client_for(users["sales1"]).post(
        reverse("customers:edit", args=[customer.pk]), _edit_data(customer, city="苏州"))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    assert "The database is busy" in body and "nothing you sent was saved" in body
    customer.refresh_from_db()
    assert customer.city == "上海"


def test_the_busy_page_speaks_chinese(users, customers, locked):
    customer = customers["east"]
    client = client_for(users["sales1"])
    client.cookies["django_language"] = "zh-hans"
    response = client.post(reverse("customers:edit", args=[customer.pk]),
                           _edit_data(customer, city="苏州"))
    assert response.status_code == 503
    assert "数据库正忙" in response.content.decode()


def test_the_api_answers_503_json(users, customers, locked):
    from kehu.accounts.tokens import create_token

    api = ApiClient(create_token(users["sales1"], "tests")[1])
    customer = customers["east"]
    response = api.patch(f"/customers/{customer.pk}", {"city": "苏州",
                                                       "version": customer.version})
    assert response.status_code == 503
    assert response.json()["code"] == "busy"
    assert response["Retry-After"] == "30"


def test_other_database_errors_are_not_called_busy():
    from kehu.core.middleware import is_busy

    assert is_busy(OperationalError("database is locked"))
    assert not is_busy(OperationalError("no such table: x"))
    assert not is_busy(ValueError("database is locked"))


def test_a_sqlite_database_url_gets_the_same_waiting_writers(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/other.sqlite3",
           "DJANGO_SETTINGS_MODULE": "kehu.settings", "KEHU_VAR_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; o = "
         "settings.DATABASES['default']['OPTIONS']; "
         "print(o['transaction_mode'], o['timeout'], 'WAL' in o['init_command'])"],
        env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["IMMEDIATE", "60", "True"], out.stderr
