"""Fixtures for the REST API: a token per user and a client that sends it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

BASE = "/api/v1"


class ApiClient:
    """Django's test client speaking JSON with a bearer token."""

    def __init__(self, token: str | None):
        self.client = Client(REMOTE_ADDR="203.0.113.7")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def request(self, method: str, path: str, body: Any = None, **query: Any):
        url = path if path.startswith("/api/") else BASE + path
        call = getattr(self.client, method.lower())
        if method.upper() == "GET":
            return call(url, query, headers=self.headers)
        data = json.dumps(body) if body is not None else ""
        if query:
            from urllib.parse import urlencode

            url += "?" + urlencode(query)
        return call(url, data, content_type="application/json", headers=self.headers)

    def get(self, path: str, **query: Any):
        return self.request("GET", path, **query)

    def post(self, path: str, body: Any = None):
        return self.request("POST", path, body)

    def patch(self, path: str, body: Any = None):
        return self.request("PATCH", path, body)

    def delete(self, path: str):
        return self.request("DELETE", path)


@pytest.fixture
def tokens(users) -> dict[str, str]:
    from kehu.accounts.tokens import create_token

    return {name: create_token(user, "tests")[1] for name, user in users.items()}


@pytest.fixture
def api(tokens):
    """`api("sales1").get("/customers")`: requests as that user; `api(None)` sends no token."""
    return lambda name: ApiClient(tokens[name] if name else None)


