"""The load test's users (locust): what sales users, managers and an integration do all day.

Run by bench/load_bench.py, which fills the database, starts gunicorn and writes the plan
this file reads (KEHU_LOAD_PLAN: a JSON file with, per bench user, the username, password,
API token, customers they may open and edit, and search fragments). Each simulated person
signs in once (through the sign-in form; timed apart), then lists customers, searches,
opens cards, edits a customer (with the form's version field, as the browser sends it),
looks at the value dashboard, and calls the API list with a token, with a human's pause
between clicks.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from html.parser import HTMLParser

import requests
from locust import HttpUser, between, task

with open(os.environ["KEHU_LOAD_PLAN"], encoding="utf-8") as plan_file:
    PLAN = json.load(plan_file)
_people = itertools.cycle(PLAN["people"])


class _Form(HTMLParser):
    """The fields of the page's form whose action is `action` (or of the first form), with
    the values the browser would send unchanged."""

    def __init__(self, action: str | None = None):
        super().__init__(convert_charrefs=True)
        self.action, self.inside, self.done = action, False, False
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self.done and not self.inside:
            self.inside = self.action is None or a.get("action") in (self.action, "", None)
            return
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.fields[name] = a.get("value") or "on"
            elif kind not in {"submit", "button", "file"}:
                self.fields[name] = a.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "option" and self._select is not None and "selected" in a:
            self.fields[self._select] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_data(self, data):
        if self._textarea is not None:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self.inside:
            self.inside, self.done = False, True


def form_fields(html: str, action: str | None = None) -> dict[str, str]:
    parser = _Form(action)
    parser.feed(html)
    return parser.fields


class Person(HttpUser):
    """One person of the firm at their desk: a click every one to three seconds."""

    wait_time = between(1, 3)

    def on_start(self):
        """Sign in through the sign-in form, outside the figures: checking a password costs
        its hash (PBKDF2, by design slow), once a day per person, and load_bench.py times it
        on its own."""
        self.me = next(_people)
        self.rng = random.Random()
        session = requests.Session()
        page = session.get(f"{self.host}/accounts/login/", timeout=120)
        token = form_fields(page.text).get("csrfmiddlewaretoken", "")
        response = session.post(f"{self.host}/accounts/login/", timeout=120, data={
            "csrfmiddlewaretoken": token, "username": self.me["username"],
            "password": self.me["password"]}, headers={"Referer": page.url})
        if "/accounts/login/" in response.url:
            raise RuntimeError(f"{self.me['username']} could not sign in")
        self.client.cookies.update(session.cookies)

    def _customer(self) -> int:
        return self.rng.choice(self.me["customers"])

    @task(4)
    def customer_list(self):
        self.client.get("/customers/", name="customer list")

    @task(4)
    def search(self):
        self.client.get("/customers/", params={"q": self.rng.choice(PLAN["fragments"])},
                        name="customer search")

    @task(6)
    def card(self):
        self.client.get(f"/customers/{self._customer()}/", name="customer card")

    @task(1)
    def edit(self):
        pk = self._customer()
        url = f"/customers/{pk}/edit/"
        page = self.client.get(url, name="edit form")
        fields = form_fields(page.text, action=url)
        if "version" not in fields:
            return  # a page without the form: its request already counted as an error
        if "current_activity" in fields:
            fields["current_activity"] = f"Load test {self.rng.randrange(10**6)}"
        with self.client.post(url, data=fields, name="edit save", headers={"Referer": page.url},
                              catch_response=True, allow_redirects=False) as response:
            # Saved: back to the card. Someone else saved first (the version moved on):
            # the form again with a message, which a person would read and resend.
            if response.status_code == 302 or (response.status_code == 200 and re.search(
                    r'name="version"', response.text)):
                response.success()
            else:
                response.failure(f"edit answered {response.status_code}")

    @task(1)
    def value_dashboard(self):
        self.client.get("/value/", name="value dashboard")

    @task(2)
    def api_list(self):
        self.client.get("/api/v1/customers", params={"limit": 50}, name="API customer list",
                        headers={"Authorization": f"Bearer {self.me['token']}"})
