"""No internal code reaches a reader: segment, quadrant and treatment codes, lifecycle states,
model names, task origins, activity kinds, audit actions and warning codes are shown by their
translated labels on every main page, in English and in Chinese.

The codes are collected from the code itself (every TextChoices and model choice, the value
rules' lists, the registered task rules, the audit actions, the refresh's warnings), so a
new code is covered as soon as it exists. A code may appear where it is an ordinary word of
the page's own language: a word of some English text of kehu in the English pages, a word
some Chinese translation keeps (such as "P(alive)") in the Chinese ones."""

from __future__ import annotations

import html.parser
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import reverse

import kehu
from kehu.accounts.models import Team, User
from kehu.analytics import rules
from kehu.analytics.refresh import refresh_values
from kehu.audit.labels import ACTIONS, LISTS
from kehu.customers import card
from kehu.customers.models import Customer, LifecycleTransition
from kehu.sales.models import Activity
from kehu.tasks.models import RULE_TEXTS, Task
from tests.analytics.test_refresh import AS_OF, firm  # noqa: F401

PO = Path(kehu.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
CODE = re.compile(r"^[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*$")
MODEL_NAMES = ("bgnbd", "mbgnbd", "pareto_nbd", "pareto-nbd", "gamma_gamma", "auto")


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _warning_codes() -> set[str]:
    source = (Path(kehu.__file__).parent / "analytics" / "refresh.py").read_text()
    return set(re.findall(r"self\.warn(?:_once)?\(\s*\"([a-z_]+)\"", source))


def known_codes() -> set[str]:
    codes: set[str] = set()
    for choices in _subclasses(models.TextChoices):
        if choices.__module__.startswith("kehu."):
            codes.update(choices.values)
    for model in apps.get_models():
        if model.__module__.startswith("kehu."):
            for field in model._meta.get_fields():
                for value, _label in getattr(field, "flatchoices", None) or ():
                    if isinstance(value, str):
                        codes.add(value)
    codes.update(rules.STATES, rules.SEGMENTS, rules.QUADRANTS, MODEL_NAMES, RULE_TEXTS,
                 ACTIONS, LISTS, _warning_codes())
    return {c for c in codes if len(c) >= 3 and CODE.match(c)}


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*", text.lower()))


def allowed_words() -> dict[str, set[str]]:
    """The words each language's own texts use: English msgids, Chinese msgstrs."""
    english, chinese = set(), set()
    for entry in PO.read_text(encoding="utf-8").split("\n\n"):
        part = "msgid"
        for line in entry.splitlines():
            if line.startswith("msgstr"):
                part = "msgstr"
            elif line.startswith("msgid"):
                part = "msgid"
            if line.startswith("#"):
                continue
            text = line.split('"', 1)[1] if '"' in line else ""
            # A placeholder names a variable, not a word a reader sees.
            text = re.sub(r"%\([a-z_]+\)[sd]|\{[a-z_ ]+\}", " ", text)
            (english if part == "msgid" else chinese).update(_words(text))
    return {"en": english, "zh-hans": chinese}


class _Visible(html.parser.HTMLParser):
    """The text a reader sees or hears: text nodes outside scripts and styles, and the
    title, aria-label, placeholder and alt attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self.hidden += 1
        for name, value in attrs:
            if name in ("title", "aria-label", "placeholder", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Visible()
    parser.feed(page)
    return " ".join(parser.parts)


def _data_strings() -> list[str]:
    """What people typed (names, subjects, titles): data, not codes."""
    strings = {*Customer.objects.values_list("name", flat=True),
               *Activity.objects.values_list("subject", flat=True),
               *Task.objects.values_list("title", flat=True),
               *User.objects.values_list("username", flat=True),
               *Team.objects.values_list("name", flat=True),
               # A history entry's reason is kept as written, in the writer's language.
               *Customer.history.values_list("history_change_reason", flat=True),
               *LifecycleTransition.objects.values_list("reason", flat=True)}
    return sorted((s for s in strings if s), key=len, reverse=True)


def raw_codes(text: str, codes: set[str], allowed: set[str], data: list[str]) -> list[str]:
    for s in data:
        text = text.replace(s, " ")
    found = []
    for code in sorted(codes - allowed):
        match = re.search(rf"(?<![A-Za-z0-9_.\-]){re.escape(code)}(?![A-Za-z0-9_\-]|\.[a-z])",
                          text)
        if match:
            found.append(f"{code!r} in …{text[max(0, match.start() - 60):match.end() + 60]}…")
    return found


def _pages(client: Client, customer) -> dict[str, str]:
    url = reverse("customers:card", args=[customer.pk])
    pages = {f"card tab {t.key}": client.get(url, {"tab": t.key}) for t in card.tabs()}
    pages.update({
        "card": client.get(url),
        "customer list": client.get(reverse("customers:list")),
        "value dashboard": client.get(reverse("analytics:dashboard")),
        "value models": client.get(reverse("analytics:models")),
        "value settings": client.get(reverse("analytics:settings")),
        "workbench": client.get(reverse("workbench:home")),
        "audit log": client.get(reverse("audit:events")),
        "loan register": client.get(reverse("loans:register")),
    })
    for name, response in pages.items():
        assert response.status_code == 200, name
    return {name: visible_text(r.content.decode()) for name, r in pages.items()}


def test_the_collected_codes_include_the_known_ones():
    codes = known_codes()
    for code in ("invest", "minimise", "maintain", "phase_out", "first", "bgnbd",
                 "pareto_nbd", "visit", "value.refresh", "poor_fit"):
        assert code in codes, code


def test_the_check_finds_a_raw_code():
    codes, allowed = known_codes(), allowed_words()
    assert raw_codes("Segment: minimise", codes, allowed["zh-hans"], [])
    assert raw_codes("Model: bgnbd", codes, allowed["en"], [])
    assert not raw_codes("Low current, low potential: minimise cost", codes, allowed["en"], [])


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_no_raw_code_reaches_a_reader(firm, users, language):  # noqa: F811
    refresh_values(users["admin"], as_of=AS_OF)
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.cookies["django_language"] = language
    client.force_login(users["admin"])
    codes, allowed, data = known_codes(), allowed_words()[language], _data_strings()
    problems = {name: found for name, text in _pages(client, firm["a"]).items()
                if (found := raw_codes(text, codes, allowed, data))}
    assert not problems, problems
