"""A server error leaves a trace: a JSON log line with the request id and the traceback, a
500 page (or JSON answer) that shows the id, and the id in every answer's header."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from kehu.core.logs import current_request_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines():
    """What the configured stderr handler writes, one parsed JSON object per line."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "stderr")
    stream = io.StringIO()
    previous = handler.setStream(stream)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    handler.setStream(previous)


@pytest.fixture
def failing_list(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("the list broke")

    monkeypatch.setattr("kehu.customers.selectors.customer_page", boom)


def _signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_a_view_that_raises_logs_json_with_the_request_id_and_the_traceback(
        users, failing_list, log_lines):
    response = _signed_in(users["sales1"]).get(reverse("customers:list"))
    assert response.status_code == 500
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    [error] = [line for line in log_lines() if line["level"] == "ERROR"]
    assert error["logger"] == "django.request"
    assert error["request_id"] == request_id
    assert error["method"] == "GET" and error["path"] == "/customers/"
    assert error["user_id"] == users["sales1"].pk
    assert error["status"] == 500
    assert "Traceback" in error["exception"] and "RuntimeError: the list broke" in (
        error["exception"])
    assert error["time"].endswith("Z")


def test_the_500_page_shows_the_request_id_and_nothing_else(users, failing_list):
    client = _signed_in(users["sales1"])
    response = client.get(reverse("customers:list"))
    body = response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert f'<code class="token" id="request-id">{response["X-Request-ID"]}</code>' in body
    assert "Server error" in body and "the list broke" not in body
    assert "Traceback" not in body and "sales1" not in body
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    body = client.get(reverse("customers:list")).content.decode()
    assert "服务器错误" in body and 'lang="zh-Hans"' in body


def test_an_api_500_is_json_with_the_request_id(users, failing_list, log_lines):
    from kehu.accounts.tokens import create_token

    _token, raw = create_token(users["sales1"], "tests")
    response = Client(raise_request_exception=False).get(
        "/api/v1/customers", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 500
    body = response.json()
    assert body["request_id"] == response["X-Request-ID"]
    assert body["code"] == "server_error" and "the list broke" not in json.dumps(body)
    [error] = [line for line in log_lines() if line["level"] == "ERROR"]
    assert error["request_id"] == body["request_id"] and error["path"] == "/api/v1/customers"


def test_every_answer_has_its_own_request_id(client):
    first = client.get(reverse("login"))["X-Request-ID"]
    second = client.get(reverse("login"))["X-Request-ID"]
    assert first != second
    assert client.get("/no/such/page/")["X-Request-ID"]


@override_settings(KEHU_TRUSTED_PROXIES={"10.0.0.5"})
@pytest.mark.parametrize("remote, sent, kept", [
    ("10.0.0.5", "7f1c9a0e-3b2d-4c55-9e61-0a1b2c3d4e5f", True),
    ("10.0.0.5", "short", False),                           # too short to be an id
    ("10.0.0.5", "bad id with spaces and <html>", False),   # not well-formed
    ("10.0.0.5", "x" * 129, False),                         # too long
    ("203.0.113.9", "7f1c9a0e-3b2d-4c55-9e61-0a1b2c3d4e5f", False),  # not a trusted proxy
])
def test_a_trusted_proxys_well_formed_request_id_is_kept(remote, sent, kept):
    response = Client(REMOTE_ADDR=remote).get(reverse("login"), headers={"X-Request-ID": sent})
    assert (response["X-Request-ID"] == sent) is kept
    if not kept:
        assert len(response["X-Request-ID"]) == 32


def test_records_outside_a_request_carry_no_request_id(log_lines):
    logging.getLogger("kehu.test").warning("outside any request")
    [line] = log_lines()
    assert line["message"] == "outside any request" and "request_id" not in line
    assert current_request_id() is None
